// What the SMB inspector reports as not following NetBIOS, SMB or the DCE/RPC it reads on
// named pipes: a closed set (vitrine/netmon/malformed_reason.h), each id a metric label value.
#pragma once

#include "vitrine/netmon/malformed_reason.h"

namespace vitrine::netmon::smb::malformed {

// NetBIOS session framing (smb_message.cpp).
inline constexpr MalformedReason kNotNetbios{"not_netbios", "bytes that are not NetBIOS session messages"};
inline constexpr MalformedReason kNetbiosTooLong{"netbios_message_too_long", "a NetBIOS message longer than 128 KiB"};
// SMB messages and chains (smb_inspector.cpp).
inline constexpr MalformedReason kNotSmb{"not_smb", "a NetBIOS message that is not SMB"};
inline constexpr MalformedReason kReplyFlag{"request_flagged_as_reply", "an SMB request flagged as the server's reply"};
inline constexpr MalformedReason kRefusedShape{"write_word_count_refused",
                                               "an SMB write whose word count the server refuses"};
inline constexpr MalformedReason kBadChain{
    "bad_chain", "a chain of SMB commands that loops, goes past what is read of its message, or is too long"};
inline constexpr MalformedReason kChainedToOpen{
    "write_chained_to_open", "an SMB write chained to the open of its file, whose id only the server's answer gives"};
inline constexpr MalformedReason kChainedAfterWait{
    "write_chained_after_wait", "an SMB write chained after a read or a lock, which may hold the chain"};
inline constexpr MalformedReason kRefusedPipeWrite{"pipe_write_refused",
                                                   "a write netmon read into a pipe, refused by the server"};
// Named pipes and DCE/RPC on them (dcerpc.cpp).
inline constexpr MalformedReason kPipesOverBound{"too_many_pipes",
                                                 "more named pipes written on one connection than a client opens"};
inline constexpr MalformedReason kPipeWriteCut{"rpc_write_longer_than_read",
                                               "a write to an RPC pipe longer than what is read of it"};
inline constexpr MalformedReason kNotDceRpc{"not_dcerpc", "bytes on an RPC pipe that are not a DCE/RPC PDU"};
inline constexpr MalformedReason kIntegerRepresentation{
    "rpc_integer_representation", "a DCE/RPC PDU of an integer representation C706 does not define"};
inline constexpr MalformedReason kRpcShort{"rpc_shorter_than_header", "a DCE/RPC PDU shorter than its header"};
inline constexpr MalformedReason kBindShort{"bind_cut_short", "a bind cut short"};
inline constexpr MalformedReason kBindContexts{"bind_contexts_past_pdu", "a bind whose context list goes past its PDU"};
inline constexpr MalformedReason kContextsOverBound{"too_many_contexts",
                                                    "more presentation contexts than a client binds"};
inline constexpr MalformedReason kRequestPastPdu{"request_past_pdu",
                                                 "a request whose header or trailer goes past its PDU"};
inline constexpr MalformedReason kCallsOverBound{"too_many_open_calls", "more calls open on a pipe than a client makes"};
inline constexpr MalformedReason kOrphanFragment{"fragment_of_no_request", "a DCE/RPC fragment of no request"};
inline constexpr MalformedReason kRequestTooLong{"rpc_request_too_long", "a DCE/RPC request longer than 64 KiB"};
inline constexpr MalformedReason kPieceInMessage{"write_inside_piecewise_message",
                                                 "a write to a pipe in the middle of a message written in pieces"};
inline constexpr MalformedReason kPieceBegunTwice{"piecewise_message_begun_twice",
                                                  "a pipe message begun before the last one was whole"};
inline constexpr MalformedReason kPieceNeverBegun{"piece_of_no_message", "a piece of a pipe message never begun"};
inline constexpr MalformedReason kPieceNoLength{"piecewise_message_without_length",
                                                "a pipe message written in pieces whose first says it has no length"};
inline constexpr MalformedReason kPiecesTooLong{"piecewise_message_too_long",
                                                "pieces of a pipe message longer than it, or than netmon joins"};

inline constexpr const MalformedReason* kAll[] = {
    &kNotNetbios,     &kNetbiosTooLong,  &kNotSmb,           &kReplyFlag,        &kRefusedShape,
    &kBadChain,       &kChainedToOpen,   &kChainedAfterWait, &kRefusedPipeWrite, &kPipesOverBound,
    &kPipeWriteCut,   &kNotDceRpc,       &kIntegerRepresentation, &kRpcShort,    &kBindShort,
    &kBindContexts,   &kContextsOverBound, &kRequestPastPdu, &kCallsOverBound,   &kOrphanFragment,
    &kRequestTooLong, &kPieceInMessage,  &kPieceBegunTwice,  &kPieceNeverBegun,  &kPieceNoLength,
    &kPiecesTooLong};

}  // namespace vitrine::netmon::smb::malformed
