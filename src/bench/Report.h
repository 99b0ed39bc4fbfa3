#pragma once

#include <span>
#include <string>
#include <string_view>

#include "bench/EchoClient.h"
#include "bench/RateClient.h"
#include "bench/RrClient.h"
#include "bench/ScaleClient.h"
#include "bench/ThroughputClient.h"
#include "io/Error.h"

namespace ferry::bench {

/// Text and JSON renderings of the benchmark figures. The text forms are what scripts parse:
/// TAB-separated, one line per measurement, no header (except the echo table's "Mode:" line).

/// "Mode: NAME\n" then "SIZE\tAVG_MS\tP50_US\tP99_US\n" per row (4, 1 and 1 decimals).
std::string formatEchoTable(std::string_view mode, std::span<const EchoRow> rows);
std::string echoJson(std::string_view mode, size_t count, std::span<const EchoRow> rows);

/// "batch=K\tmsgs/s=X\tMB/s=Y\n" per result.
std::string formatRate(std::span<const RateResult> results);
std::string rateJson(std::span<const RateResult> results);

/// "streams=N\tseconds=S\tGbit/s=X\n".
std::string formatThroughput(const ThroughputResult& result);
std::string throughputJson(const ThroughputResult& result);

/// "idle=N\topen=M\tavg_us=..\tp50_us=..\tp99_us=..\trss_kb=..[\tserver_rss_kb=..]\n" per row.
std::string formatScale(std::span<const ScaleRow> rows);
std::string scaleJson(size_t count, std::span<const ScaleRow> rows);

/// "connections=N\tseconds=S\trequests=R\treq/s=X\tp50_us=..\tp99_us=..\tMB/s=..\n"
/// (MB/s counts reply bytes).
std::string formatRequestReply(const RrResult& result);
std::string requestReplyJson(const RrResult& result, SizeRange replySizes);

/// `text` as a JSON string literal, quotes included.
std::string jsonString(std::string_view text);
/// Writes `text` to `path`, replacing it; the error names the path.
io::Result<void> writeTextFile(const std::string& path, std::string_view text);

}  // namespace ferry::bench
