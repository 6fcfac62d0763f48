// The mediated serial port's filter: whole lines or nothing, the line bound, printable bytes,
// the rate limit, and byte mode without a filter.
#include <gtest/gtest.h>

#include <string>

#include "vitrine/passthrough/serial_filter.h"

using namespace vitrine::passthrough;

namespace {

SerialFiltered feed(SerialLineFilter& f, const std::string& s, uint64_t now_us = 0) {
  return f.feed(reinterpret_cast<const uint8_t*>(s.data()), s.size(), now_us);
}
std::string text(const SerialFiltered& r) { return std::string(r.forward.begin(), r.forward.end()); }

TEST(SerialFilter, ScannerLinesPassWholeAndOnlyWhenComplete) {
  SerialLineFilter f({64, true, 0, 0});
  EXPECT_EQ(text(feed(f, "RX-7-INS")), "") << "half a line waits";
  const auto r = feed(f, "ULIN\r\n0123");
  EXPECT_EQ(text(r), "RX-7-INSULIN\r\n");
  EXPECT_EQ(r.lines_forwarded, 2u);  // CR, then an empty line ended by LF
  EXPECT_EQ(text(feed(f, "\n")), "0123\n");
}

TEST(SerialFilter, LongAndUnprintableLinesAreDroppedWholeAndCounted) {
  SerialLineFilter f({64, true, 0, 0});
  const auto long_line = feed(f, std::string(65, 'A') + "\n" + std::string(64, 'B') + "\n");
  EXPECT_EQ(text(long_line), std::string(64, 'B') + "\n") << "64 bytes pass, 65 do not";
  ASSERT_EQ(long_line.dropped.size(), 1u);
  EXPECT_EQ(long_line.dropped[0].reason, SerialDrop::TooLong);
  EXPECT_EQ(long_line.dropped[0].bytes, 66u);
  // A "scanner" typing an escape sequence, or a NUL: the line goes, the next one passes.
  const auto escape = feed(f, "\x1b[2J\r" + std::string("ok\r") + std::string("a\0b\r", 4));
  EXPECT_EQ(text(escape), "ok\r");
  ASSERT_EQ(escape.dropped.size(), 2u);
  EXPECT_EQ(escape.dropped[0].reason, SerialDrop::NotPrintable);
  EXPECT_EQ(escape.dropped[1].reason, SerialDrop::NotPrintable);
  // A line that never ends is held to the bound, not without end.
  SerialLineFilter endless({8, false, 0, 0});
  for (int i = 0; i < 1000; ++i) feed(endless, std::string(1000, 'x'));
  const auto ended = feed(endless, "\n");
  ASSERT_EQ(ended.dropped.size(), 1u);
  EXPECT_EQ(ended.dropped[0].bytes, 1000u * 1000u + 1);
}

TEST(SerialFilter, TheRateLimitDropsWholeLines) {
  // 10 bytes a second, bursts of 10: one 6-byte line passes, the next within the second does not.
  SerialLineFilter f({64, true, 10, 10});
  EXPECT_EQ(text(feed(f, "ABCDE\n", 0)), "ABCDE\n");
  const auto second = feed(f, "FGHIJ\n", 100'000);
  EXPECT_EQ(text(second), "");
  ASSERT_EQ(second.dropped.size(), 1u);
  EXPECT_EQ(second.dropped[0].reason, SerialDrop::RateLimited);
  EXPECT_EQ(text(feed(f, "KLMNO\n", 1'000'000)), "KLMNO\n") << "the bucket refilled";
}

TEST(SerialFilter, WithoutALineFilterBytesPassAsTheyCome) {
  SerialLineFilter f({0, false, 0, 0});
  EXPECT_EQ(text(feed(f, std::string("\x01\x02 raw", 6))), std::string("\x01\x02 raw", 6));
  SerialLineFilter limited({0, false, 4, 4});
  const auto r = feed(limited, "abcdef", 0);
  EXPECT_EQ(text(r), "abcd");
  ASSERT_EQ(r.dropped.size(), 1u);
  EXPECT_EQ(r.dropped[0].bytes, 2u);
}

}  // namespace
