#include "hl7_message.h"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace vitrine::netmon::hl7 {

namespace {

constexpr uint8_t kVt = 0x0b, kFs = 0x1c, kCr = 0x0d;

// Splits on `sep`, without copying.
std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

std::string_view field(const std::vector<std::string_view>& fields, size_t i) {
  return i < fields.size() ? fields[i] : std::string_view{};
}

// A field's components joined by '^', whatever the sender's component separator, so that
// policies compare one spelling; printable ASCII only (anything else becomes '?').
std::string normalised(std::string_view v, char component) {
  std::string out(v);
  for (char& c : out) {
    if (c == component) c = '^';
    else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  }
  return out;
}

// Three capitals or digits, then the field separator or nothing ("PID|...", "Z01|...").
bool segment_named(std::string_view seg, char fs) {
  if (seg.size() < 3 || (seg.size() > 3 && seg[3] != fs)) return false;
  return std::all_of(seg.begin(), seg.begin() + 3, [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

}  // namespace

ParseResult parse_message(const uint8_t* data, size_t len, Message& out, std::string& error, bool whole) {
  const std::string_view text(reinterpret_cast<const char*>(data), len);
  // Segments end with CR; senders that end them with LF or CRLF are read alike.
  std::vector<std::string_view> segments;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i)
    if (i == text.size() || text[i] == '\r' || text[i] == '\n') {
      if (i > start) segments.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  if (segments.empty() || segments[0].size() < 8 || segments[0].substr(0, 3) != "MSH") {
    error = "the message does not start with an MSH segment";
    return ParseResult::error();
  }
  const std::string_view msh = segments[0];
  const char fs = msh[3];
  if (std::isalnum(static_cast<unsigned char>(fs)) || fs < 0x21 || fs > 0x7e) {
    error = "MSH-1 is not a field separator";
    return ParseResult::error();
  }
  const auto fields = split(msh, fs);  // fields[i] is MSH-(i+1) for i >= 1
  const std::string_view encoding = field(fields, 1);
  if (encoding.empty() || encoding.size() > 5 || encoding.find(fs) != std::string_view::npos) {
    error = "MSH-2 holds no encoding characters";
    return ParseResult::error();
  }
  const char component = encoding[0];
  out = Message{};
  out.sending_application = normalised(field(fields, 2), component);
  out.sending_facility = normalised(field(fields, 3), component);
  out.receiving_application = normalised(field(fields, 4), component);
  out.receiving_facility = normalised(field(fields, 5), component);
  out.message_type = normalised(field(fields, 8), component);
  out.control_id = normalised(field(fields, 9), component);
  out.processing_id = normalised(field(fields, 10), component);
  out.version = normalised(field(fields, 11), component);
  if (out.message_type.empty()) {
    error = "MSH-9 (the message type) is empty";
    return ParseResult::error();
  }
  const char repetition = encoding.size() > 1 ? encoding[1] : '~';
  for (size_t i = 1; i < segments.size(); ++i) {
    const std::string_view seg = segments[i];
    // Every segment starts with its name: one that does not was split where a receiver that
    // ends segments at CR only would not (an LF inside a field), or hides one behind a space.
    if (!(i + 1 == segments.size() && !whole) && !segment_named(seg, fs)) {
      error = "a segment that does not start with a segment name";
      return ParseResult::error();
    }
    if (seg.size() < 4 || seg[3] != fs) continue;
    const auto f = split(seg, fs);
    if (seg.substr(0, 3) == "MSA" && out.ack_code.empty()) {
      out.ack_code = normalised(field(f, 1), component);
      out.acked_control_id = normalised(field(f, 2), component);
    } else if (seg.substr(0, 3) == "PID" && out.patient_id.empty()) {
      const std::string_view ids = field(f, 3);
      const std::string_view first = ids.substr(0, ids.find(repetition));
      out.patient_id = std::string(first.substr(0, first.find(component)));
    }
  }
  return ParseResult::ok();
}

void MllpFramer::feed(const uint8_t* data, size_t len, std::vector<Frame>& frames,
                      std::vector<FramingError>& errors) {
  for (size_t i = 0; i < len; ++i) {
    const uint8_t b = data[i];
    switch (state_) {
      case State::Outside:
        if (b == kVt) {
          state_ = State::Inside;
          current_ = Frame{};
          segment_at_ = 0;
          segment_msh_ = true;
        } else if (b != kCr && b != '\n') {
          // Some senders put a line break between frames; anything else is not MLLP. Skip to
          // the next start byte and say so once per run of stray bytes.
          if (errors.empty() || errors.back().what != &malformed::kOutsideFrame)
            errors.push_back({&malformed::kOutsideFrame});
        }
        break;
      case State::Inside:
        if (b == kFs) {
          // The message is complete at its FS: a receiver that does not wait for the CR acts
          // on it here, so it is judged here, on the packet that carries the FS. An empty frame
          // (a keepalive some engines send) carries no message: nothing to judge.
          if (current_.length > 0) frames.push_back(std::move(current_));
          current_ = Frame{};
          state_ = State::AfterFs;
        } else if (b == kVt) {
          errors.push_back({&malformed::kFrameInFrame});
          current_ = Frame{};
          segment_at_ = 0;
          segment_msh_ = true;
        } else {
          take_inside(b);
        }
        break;
      case State::AfterFs:
        // FS then CR; some senders end with LF: the message ended at the FS either way.
        if (b != kCr && b != '\n') errors.push_back({&malformed::kEndWithoutCr});
        state_ = b == kVt ? State::Inside : State::Outside;
        current_ = Frame{};
        segment_at_ = 0;
        segment_msh_ = true;
        break;
    }
  }
}

void MllpFramer::take_inside(uint8_t b) {
  if (current_.head.size() < kMaxHeadBytes) current_.head.push_back(b);
  ++current_.length;
  // Every segment is looked at, not only those of the head kept: a second MSH anywhere makes
  // the frame a batch, whose later messages the receiver would act on unread.
  if (b == kCr || b == '\n') {
    segment_at_ = 0;
    segment_msh_ = true;
    return;
  }
  if (segment_msh_ && segment_at_ < 3) {
    segment_msh_ = b == static_cast<uint8_t>("MSH"[segment_at_]);
    if (segment_msh_ && segment_at_ == 2) ++current_.msh_segments;
  }
  ++segment_at_;
}

}  // namespace vitrine::netmon::hl7
