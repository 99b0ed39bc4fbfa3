#include "bench/Report.h"

#include <cerrno>
#include <cstdio>

#include <fmt/format.h>

namespace ferry::bench {

std::string formatEchoTable(std::string_view mode, std::span<const EchoRow> rows) {
  std::string text = fmt::format("Mode: {}\n", mode);
  for (const EchoRow& row : rows) {
    text += fmt::format("{}\t{:.4f}\t{:.1f}\t{:.1f}\n", row.size, row.avgMs, row.p50Us, row.p99Us);
  }
  return text;
}

std::string echoJson(std::string_view mode, size_t count, std::span<const EchoRow> rows) {
  std::string text = fmt::format("{{\"bench\": \"echo\", \"mode\": {}, \"count\": {}, \"rows\": [",
                                 jsonString(mode), count);
  for (size_t i = 0; i < rows.size(); ++i) {
    const EchoRow& row = rows[i];
    text += fmt::format(
        "{}\n  {{\"size\": {}, \"avg_ms\": {:.4f}, \"p50_us\": {:.1f}, \"p99_us\": {:.1f}}}",
        i ? "," : "", row.size, row.avgMs, row.p50Us, row.p99Us);
  }
  return text + "\n]}\n";
}

std::string formatRate(std::span<const RateResult> results) {
  std::string text;
  for (const RateResult& result : results) {
    text += fmt::format("batch={}\tmsgs/s={:.0f}\tMB/s={:.1f}\n", result.batch,
                        result.messagesPerSecond, result.megabytesPerSecond);
  }
  return text;
}

std::string rateJson(std::span<const RateResult> results) {
  std::string text = "{\"bench\": \"rate\", \"runs\": [";
  for (size_t i = 0; i < results.size(); ++i) {
    const RateResult& r = results[i];
    text += fmt::format(
        "{}\n  {{\"batch\": {}, \"size\": {}, \"messages\": {}, \"seconds\": {:.6f}, "
        "\"msgs_per_s\": {:.0f}, \"mb_per_s\": {:.1f}}}",
        i ? "," : "", r.batch, r.size, r.messages, r.seconds, r.messagesPerSecond,
        r.megabytesPerSecond);
  }
  return text + "\n]}\n";
}

std::string formatThroughput(const ThroughputResult& result) {
  return fmt::format("streams={}\tseconds={:.2f}\tGbit/s={:.2f}\n", result.streams, result.seconds,
                     result.gigabitsPerSecond);
}

std::string throughputJson(const ThroughputResult& result) {
  return fmt::format(
      "{{\"bench\": \"throughput\", \"streams\": {}, \"seconds\": {:.6f}, \"bytes\": {}, "
      "\"gbit_per_s\": {:.3f}}}\n",
      result.streams, result.seconds, result.bytes, result.gigabitsPerSecond);
}

std::string formatScale(std::span<const ScaleRow> rows) {
  std::string text;
  for (const ScaleRow& row : rows) {
    text += fmt::format("idle={}\topen={}\tavg_us={:.1f}\tp50_us={:.1f}\tp99_us={:.1f}\trss_kb={}",
                        row.idle, row.idle + 1, row.avgUs, row.p50Us, row.p99Us, row.rssKb);
    if (row.serverRssKb != 0) {
      text += fmt::format("\tserver_rss_kb={}", row.serverRssKb);
    }
    text += '\n';
  }
  return text;
}

std::string scaleJson(size_t count, std::span<const ScaleRow> rows) {
  std::string text = fmt::format("{{\"bench\": \"scale\", \"count\": {}, \"rows\": [", count);
  for (size_t i = 0; i < rows.size(); ++i) {
    const ScaleRow& row = rows[i];
    text += fmt::format(
        "{}\n  {{\"idle\": {}, \"open\": {}, \"avg_us\": {:.1f}, \"p50_us\": {:.1f}, "
        "\"p99_us\": {:.1f}, \"rss_kb\": {}, \"server_rss_kb\": {}}}",
        i ? "," : "", row.idle, row.idle + 1, row.avgUs, row.p50Us, row.p99Us, row.rssKb,
        row.serverRssKb);
  }
  return text + "\n]}\n";
}

namespace {

double replyMegabytesPerSecond(const RrResult& result) {
  return result.seconds > 0 ? static_cast<double>(result.replyBytes) / result.seconds / 1e6 : 0;
}

}  // namespace

std::string formatRequestReply(const RrResult& result) {
  return fmt::format(
      "connections={}\tseconds={:.2f}\trequests={}\treq/s={:.0f}\tp50_us={:.1f}\tp99_us={:.1f}"
      "\tMB/s={:.1f}\n",
      result.connections, result.seconds, result.requests, result.requestsPerSecond, result.p50Us,
      result.p99Us, replyMegabytesPerSecond(result));
}

std::string requestReplyJson(const RrResult& result, SizeRange replySizes) {
  return fmt::format(
      "{{\"bench\": \"rr\", \"connections\": {}, \"reply_min\": {}, \"reply_max\": {}, "
      "\"seconds\": {:.6f}, \"requests\": {}, \"reply_bytes\": {}, \"req_per_s\": {:.0f}, "
      "\"p50_us\": {:.1f}, \"p99_us\": {:.1f}}}\n",
      result.connections, replySizes.min, replySizes.max, result.seconds, result.requests,
      result.replyBytes, result.requestsPerSecond, result.p50Us, result.p99Us);
}

std::string jsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      out += fmt::format("\\u{:04x}", byte);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

io::Result<void> writeTextFile(const std::string& path, std::string_view text) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) {
    return std::unexpected(io::systemError(fmt::format("cannot write '{}'", path)));
  }
  bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  bool closed = std::fclose(file) == 0;
  if (!written || !closed) {
    return std::unexpected(io::systemError(fmt::format("cannot write '{}'", path)));
  }
  return {};
}

}  // namespace ferry::bench
