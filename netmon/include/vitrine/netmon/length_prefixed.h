// One framer for every protocol whose frames start with a fixed-size header that says how long
// the rest is (NetBIOS session messages, TPKT, DICOM PDUs): it cuts a stream delivered in
// order, in pieces of any size, into frames. What a header means is the protocol's, given as
// a type with `kHeaderBytes` and `FrameHeader read(const uint8_t* header) const`; keeping part
// of a body, skipping a frame, refusing a length and stopping are the framer's, written once.
// A length a header claims is never waited out unless the protocol allows it: the protocol
// says so at the header, and the framer reads nothing after a refusal.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "vitrine/netmon/malformed_reason.h"

namespace vitrine::netmon {

// What a protocol reads in one frame's header.
struct FrameHeader {
  size_t body_bytes = 0;  // the bytes after the header the frame has
  size_t keep_bytes = 0;  // of those, how many its Frame holds (the rest is counted and skipped)
  bool deliver = true;    // false: a frame the protocol steps over (a NetBIOS keepalive)
  // The header is not the protocol's: the framer stops here. With a reason, it is a fault to
  // report; without, the stream is simply no longer framed (TLS after RDP's negotiation).
  bool stop = false;
  const MalformedReason* fault = nullptr;
  const MalformedReason* odd = nullptr;  // framed all the same, and worth saying (once)

  static FrameHeader frame(size_t body, size_t keep) { return {body, std::min(body, keep), true, false, nullptr, nullptr}; }
  static FrameHeader skip(size_t body) { return {body, 0, false, false, nullptr, nullptr}; }
  static FrameHeader refuse(const MalformedReason* why) { return {0, 0, false, true, why, nullptr}; }
  static FrameHeader end() { return {0, 0, false, true, nullptr, nullptr}; }
};

struct Frame {
  std::vector<uint8_t> bytes;  // the header, then the body's kept bytes
  size_t header_bytes = 0;
  size_t body_bytes = 0;       // the body's length, as the header says
  const uint8_t* body() const { return bytes.data() + header_bytes; }
  size_t kept() const { return bytes.size() - header_bytes; }
};

template <class Protocol>
class LengthPrefixedFramer {
 public:
  static constexpr size_t kHeaderBytes = Protocol::kHeaderBytes;

  // Appends the frames the bytes complete.
  void feed(const uint8_t* data, size_t len, std::vector<Frame>& frames) {
    size_t at = 0;
    while (at < len && !stopped_) {
      if (have_header_ < kHeaderBytes && !take_header(data, len, at)) return;
      const size_t n = std::min(remaining_, len - at);
      if (header_.deliver) {
        const size_t room = header_.keep_bytes - current_.kept();
        current_.bytes.insert(current_.bytes.end(), data + at, data + at + std::min(n, room));
      }
      remaining_ -= n;
      at += n;
      if (remaining_ == 0) {
        if (header_.deliver) frames.push_back(std::move(current_));
        current_ = Frame{};
        have_header_ = 0;
      }
    }
  }

  bool stopped() const { return stopped_; }
  const MalformedReason* fault() const { return fault_; }  // why it stopped, if a fault
  const MalformedReason* odd() const { return odd_; }      // the first odd header, if any
  bool inside_frame() const { return have_header_ > 0 && !stopped_; }  // a stopped framer reads no frame
  Protocol& protocol() { return protocol_; }  // what the protocol learns as it goes (DICOM's maximum)

 private:
  // Reads header bytes; true once a frame's header is whole and accepted.
  bool take_header(const uint8_t* data, size_t len, size_t& at) {
    const size_t n = std::min(kHeaderBytes - have_header_, len - at);
    std::copy(data + at, data + at + n, raw_ + have_header_);
    have_header_ += n;
    at += n;
    if (have_header_ < kHeaderBytes) return false;
    header_ = protocol_.read(raw_);
    if (header_.odd != nullptr && odd_ == nullptr) odd_ = header_.odd;
    if (header_.stop) {
      stopped_ = true;
      fault_ = header_.fault;
      return false;
    }
    current_ = Frame{};
    current_.header_bytes = kHeaderBytes;
    current_.body_bytes = header_.body_bytes;
    current_.bytes.assign(raw_, raw_ + kHeaderBytes);
    remaining_ = header_.body_bytes;  // 0: a header-only frame, completed by the caller at once
    return true;
  }

  Protocol protocol_{};
  uint8_t raw_[kHeaderBytes] = {};
  size_t have_header_ = 0;
  FrameHeader header_{};
  size_t remaining_ = 0;
  bool stopped_ = false;
  const MalformedReason* fault_ = nullptr;
  const MalformedReason* odd_ = nullptr;
  Frame current_{};
};

}  // namespace vitrine::netmon
