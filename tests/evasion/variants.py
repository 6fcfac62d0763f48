"""How an attacker reshapes a TCP session so that an inspector reads one stream and the host
another: the classes of netmon's stream engine (DESIGN.md, "One view of the stream"), each a
function of a built session's frames. Each variant applies to an attack session and to its
benign twin alike; `attack` chooses, where it matters, whether the reshaped bytes differ from
the real ones (the attack) or are the same (the twin).

Each variant says what netmon must do:
  "reads":  it still reads the attack's bytes as the host does: the attack is denied;
  "blocks": the attack's bytes never reach the host whole (netmon drops what it cannot read
            one way), whether or not it denies the flow.
and whether the benign twin still crosses whole ("whole"), or may stall (its own segments are
ones netmon drops, "stalls").
"""
from scapy.all import IP, TCP, Dot1Q, Ether, IPOption_LSRR

from sessions import CLIENT_ISN, SERVER_ISN, Frame


def _copy(frame, **extra):
    return Frame(frame.side, frame.packet.copy(), frame.kind, frame.turn, frame.offset, dict(frame.extra, **extra))


def _with_payload(frame, payload, seq=None):
    f = _copy(frame)
    tcp = f.packet[TCP]
    tcp.remove_payload()
    f.packet[TCP].add_payload(payload)
    if seq is not None:
        f.packet[TCP].seq = seq % (1 << 32)
    return f


def _payload(frame):
    return bytes(frame.packet[TCP].payload)


def _data_indexes(frames):
    return [i for i, f in enumerate(frames) if f.side == "c" and f.kind == "data"]


def first_data(frames):
    return _data_indexes(frames)[0]


def target(frames, session):
    """The client segment an attacker reshapes: the attack turn's first, or (in a benign
    session) its last client turn's first."""
    turn = session.attack_turn
    if turn is None:
        turn = max(f.turn for f in frames if f.side == "c" and f.kind == "data")
    return next(i for i, f in enumerate(frames) if f.side == "c" and f.kind == "data" and f.turn == turn)


def decoy_bytes(n):
    # A NetBIOS header claiming a 16 MB message, then zeros: read first, it blinds an SMB
    # reader; for any other protocol it hides what the stream is.
    return (b"\x00\xff\xff\xff" + bytes(max(0, n - 4)))[:n]


def _split(frame, at):
    data = _payload(frame)
    seq = frame.packet[TCP].seq
    return _with_payload(frame, data[:at]), _with_payload(frame, data[at:], seq + at)


def split_first(at):
    def variant(frames, session, attack):
        i = first_data(frames)
        head, tail = _split(frames[i], min(at, len(_payload(frames[i])) - 1))
        return frames[:i] + [head, tail] + frames[i + 1:]
    return variant


def last_byte_alone(frames, session, attack):
    """The target turn's last byte in a segment of its own (MLLP: the CR after the FS)."""
    turn = frames[target(frames, session)].turn
    i = max(k for k, f in enumerate(frames) if f.side == "c" and f.kind == "data" and f.turn == turn)
    head, tail = _split(frames[i], len(_payload(frames[i])) - 1)
    return frames[:i] + [head, tail] + frames[i + 1:]


def second_half_first(frames, session, attack):
    i = first_data(frames)
    head, tail = _split(frames[i], len(_payload(frames[i])) // 2)
    return frames[:i] + [tail, head] + frames[i + 1:]


def every_byte(frames, session, attack):
    i = target(frames, session)
    data, seq = _payload(frames[i]), frames[i].packet[TCP].seq
    pieces = [_with_payload(frames[i], data[k:k + 1], seq + k) for k in range(len(data))]
    return frames[:i] + pieces + frames[i + 1:]


def decoy_far_ahead(frames, session, attack):
    i = first_data(frames)
    f = frames[i]
    decoy = _with_payload(f, decoy_bytes(len(_payload(f))), f.packet[TCP].seq + 1_000_000)
    return frames[:i] + [decoy] + frames[i:]


def _insert_before_target(make_decoy):
    def variant(frames, session, attack):
        i = target(frames, session)
        decoy = make_decoy(_with_payload(frames[i], decoy_bytes(len(_payload(frames[i])))))
        return frames[:i] + [decoy] + frames[i:]
    return variant


def _bad_checksum(layer):
    def make(f):
        pkt = f.packet.__class__(bytes(f.packet))  # with its checksums computed
        pkt.time = f.packet.time
        pkt[layer].chksum ^= 0x5a5a
        f.packet = pkt
        f.extra["keep_checksums"] = True
        return f
    return make


def _no_ack(f):
    f.packet[TCP].flags = "P"
    f.packet[TCP].ack = 0
    return f


def _ack_unsent(f):
    f.packet[TCP].ack = (f.packet[TCP].ack + 200_000) % (1 << 32)
    return f


def _vlan(f):
    pkt = f.packet
    f.packet = Ether(src=pkt[Ether].src, dst=pkt[Ether].dst) / Dot1Q(vlan=7) / pkt[IP]
    f.packet.time = pkt.time
    return f


def _damaged_options(f):
    f.packet[TCP].options = [(8, b"\x00" * 10)]  # a timestamp option twelve bytes long
    return f


def _source_route(f):
    pkt = f.packet
    pkt[IP].options = [IPOption_LSRR(routers=[pkt[IP].dst])]
    return f


def _urgent(f):
    f.packet[TCP].flags = "PAU"
    f.packet[TCP].urgptr = 1
    return f


def before_handshake(frames, session, attack):
    # Data sent after the SYN, before the SYN-ACK: the server's stack never takes it.
    i = first_data(frames)
    decoy = _with_payload(frames[i], decoy_bytes(len(_payload(frames[i]))))
    decoy.packet[TCP].ack = (SERVER_ISN + 1) % (1 << 32)
    return frames[:1] + [decoy] + frames[1:]


def overlap_covering(frames, session, attack):
    # Its tail first, out of order (with other bytes in the attack), then the whole segment:
    # Windows takes the segment that covers; netmon used to keep what it queued first.
    i = target(frames, session)
    data, seq = _payload(frames[i]), frames[i].packet[TCP].seq
    k = max(1, len(data) // 3)
    tail = data[k:] if not attack else decoy_bytes(len(data) - k)
    return frames[:i] + [_with_payload(frames[i], tail, seq + k)] + frames[i:]


def retransmit_differs(frames, session, attack):
    # The segment once with other bytes, then again as it is.
    i = target(frames, session)
    data = _payload(frames[i])
    first = decoy_bytes(len(data)) if attack else data
    return frames[:i] + [_with_payload(frames[i], first)] + frames[i:]


def _later(frames, i, seconds):
    for f in frames[i:]:
        f.packet.time = float(f.packet.time) + seconds
    return frames


def rst_outside_window(frames, session, attack):
    # A reset the host ignores (far from the next expected sequence number), then, past
    # tcpClosedTimeout, the rest: netmon used to close its view and pick the flow up midway.
    i = target(frames, session)
    rst = _copy(frames[i])
    rst.packet[TCP].remove_payload()
    rst.packet[TCP].flags = "R"
    rst.packet[TCP].seq = (rst.packet[TCP].seq + 3_000_000) % (1 << 32)
    return _later(frames[:i] + [rst] + frames[i:], i + 1, 11)


def rst_past_a_hole(frames, session, attack):
    # The second half first, then a reset at its end: the end of what was sent, but past the
    # hole, so not the host's next expected byte (it ignores it). Then, past tcpClosedTimeout,
    # the whole segment.
    i = target(frames, session)
    f = frames[i]
    data, seq = _payload(f), f.packet[TCP].seq
    k = len(data) // 2
    ahead = _with_payload(f, data[k:], seq + k)
    rst = _copy(f)
    rst.packet[TCP].remove_payload()
    rst.packet[TCP].flags = "R"
    rst.packet[TCP].seq = (seq + len(data)) % (1 << 32)
    return _later(frames[:i] + [ahead, rst] + frames[i:], i + 2, 11)


def syn_mid_connection(frames, session, attack):
    i = target(frames, session)
    syn = _copy(frames[i])
    syn.packet[TCP].remove_payload()
    syn.packet[TCP].flags = "S"
    syn.packet[TCP].seq = (CLIENT_ISN + 77_777) % (1 << 32)
    syn.packet[TCP].ack = 0
    return _later(frames[:i] + [syn] + frames[i:], i + 1, 11)


def plain(frames, session, attack):
    return frames


VARIANTS = {
    "plain": (plain, "reads", "whole"),
    "tiny-first-1": (split_first(1), "reads", "whole"),
    "tiny-first-7": (split_first(7), "reads", "whole"),
    "second-half-first": (second_half_first, "reads", "whole"),
    "every-byte": (every_byte, "reads", "whole"),
    "decoy-far-ahead": (decoy_far_ahead, "reads", "whole"),
    "insert-bad-tcp-checksum": (_insert_before_target(_bad_checksum(TCP)), "reads", "whole"),
    "insert-bad-ip-checksum": (_insert_before_target(_bad_checksum(IP)), "reads", "whole"),
    "insert-no-ack": (_insert_before_target(_no_ack), "reads", "whole"),
    "insert-ack-unsent": (_insert_before_target(_ack_unsent), "reads", "whole"),
    "insert-vlan-tagged": (_insert_before_target(_vlan), "reads", "whole"),
    "insert-damaged-options": (_insert_before_target(_damaged_options), "reads", "whole"),
    "insert-source-routed": (_insert_before_target(_source_route), "reads", "whole"),
    "insert-urgent": (_insert_before_target(_urgent), "reads", "whole"),
    "before-handshake": (before_handshake, "reads", "whole"),
    "overlap-covering": (overlap_covering, "blocks", "whole"),
    "retransmit-differs": (retransmit_differs, "blocks", "whole"),
    "rst-outside-window": (rst_outside_window, "reads", "whole"),
    "rst-past-a-hole": (rst_past_a_hole, "reads", "whole"),
    "syn-mid-connection": (syn_mid_connection, "reads", "whole"),
}
