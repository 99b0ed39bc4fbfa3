#include <gtest/gtest.h>

#include "ops/Http.h"
#include "ops/Json.h"
#include "ops/Snapshot.h"

namespace ferry::ops {
namespace {

TEST(Json, QuotesEscapesAndReplacesInvalidUtf8) {
  EXPECT_EQ(jsonQuote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(jsonQuote("line\nnext\x01"), R"("line\u000anext\u0001")");
  EXPECT_EQ(jsonQuote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(jsonQuote("bad\xff\xc3"), R"("bad\ufffd\ufffd")");
}

std::string metricsBody() {
  return "ferry_sessions 1\n";
}

TEST(Http, ServesMetricsOnlyForGetMetrics) {
  std::string ok = httpAnswer("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", metricsBody);
  EXPECT_TRUE(ok.starts_with("HTTP/1.1 200 OK\r\n")) << ok;
  EXPECT_NE(ok.find("Content-Length: 17\r\n"), std::string::npos) << ok;
  EXPECT_NE(ok.find("Connection: close\r\n"), std::string::npos) << ok;
  EXPECT_TRUE(ok.ends_with("\r\n\r\nferry_sessions 1\n"));
  EXPECT_TRUE(
      httpAnswer("GET /metrics?x=1 HTTP/1.0\r\n\r\n", metricsBody).starts_with("HTTP/1.1 200"));
  EXPECT_TRUE(httpAnswer("GET / HTTP/1.1\r\n\r\n", metricsBody).starts_with("HTTP/1.1 404"));
  std::string post = httpAnswer("POST /metrics HTTP/1.1\r\n\r\n", metricsBody);
  EXPECT_TRUE(post.starts_with("HTTP/1.1 405")) << post;
  EXPECT_NE(post.find("Allow: GET\r\n"), std::string::npos);
  EXPECT_TRUE(httpAnswer("hello\r\n\r\n", metricsBody).starts_with("HTTP/1.1 400"));
  EXPECT_TRUE(httpAnswer("GET /metrics SMTP\r\n\r\n", metricsBody).starts_with("HTTP/1.1 400"));
}

TEST(Http, HeadIsCompleteAtTheEmptyLine) {
  EXPECT_FALSE(httpHeadComplete("GET /metrics HTTP/1.1\r\nHost: x\r\n"));
  EXPECT_TRUE(httpHeadComplete("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
}

Snapshot sampleSnapshot() {
  Snapshot snapshot;
  snapshot.role = "client";
  snapshot.version = "9.9";
  snapshot.forwards = {{"127.0.0.1:2222", ""}, {"127.0.0.1:3333", "db:5432"}};
  mux::SessionInfo session;
  session.carrier.kind = "dir";
  session.carrier.peer = "abc";
  session.carrier.lanes = 2;
  session.carrier.segmentBytes = 4096;
  session.openByTarget = {{"", 2}, {"db:5432", 1}};
  session.stats.roundTrips.add(std::chrono::microseconds(300));
  session.stats.roundTrips.add(std::chrono::seconds(5));
  snapshot.sessions.push_back(session);
  snapshot.totals.live = session.stats;
  snapshot.totals.finished.bytesFromSockets = 1000;
  return snapshot;
}

TEST(Snapshot, ForwardRowsCountOpenStreamsPerTarget) {
  std::vector<ForwardRow> rows = forwardRows(sampleSnapshot());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].openStreams, 2u);
  EXPECT_EQ(rows[1].target, "db:5432");
  EXPECT_EQ(rows[1].openStreams, 1u);
}

TEST(Snapshot, PrometheusHistogramIsCumulativeWithInf) {
  std::string text = prometheusText(sampleSnapshot());
  EXPECT_NE(text.find("ferry_carrier_round_trip_seconds_bucket{le=\"0.00025\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("ferry_carrier_round_trip_seconds_bucket{le=\"0.0005\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("ferry_carrier_round_trip_seconds_bucket{le=\"2.5\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("ferry_carrier_round_trip_seconds_bucket{le=\"+Inf\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("ferry_bytes_total{direction=\"sent\"} 1000\n"), std::string::npos);
  EXPECT_NE(text.find("ferry_segment_bytes 4096\n"), std::string::npos);
  EXPECT_NE(text.find("ferry_forward_streams_open{listen=\"127.0.0.1:3333\",target=\"db:5432\"} 1"),
            std::string::npos);
}

TEST(Snapshot, StatusJsonNamesTheSession) {
  std::string json = statusJson(sampleSnapshot());
  EXPECT_NE(json.find(R"("sessions":[{"peer":"abc","carrier":"dir")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("segment_bytes":4096)"), std::string::npos);
  EXPECT_TRUE(json.ends_with("}\n"));
}

}  // namespace
}  // namespace ferry::ops
