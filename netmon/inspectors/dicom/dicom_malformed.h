// What the DICOM inspector reports as not following the upper layer protocol (PS3.8): a closed
// set (vitrine/netmon/malformed_reason.h), each id a metric label value.
#pragma once

#include "vitrine/netmon/malformed_reason.h"

namespace vitrine::netmon::dicom::malformed {

inline constexpr MalformedReason kUnknownPdu{"unknown_pdu_type", "a PDU of an unknown type"};
inline constexpr MalformedReason kAssociationTooLong{"association_pdu_too_long",
                                                     "an association PDU longer than netmon keeps"};
inline constexpr MalformedReason kPdataTooLong{"pdata_longer_than_receiver_takes",
                                               "a P-DATA PDU longer than its receiver takes"};
inline constexpr MalformedReason kFixedPduLength{"fixed_pdu_other_length", "a fixed-length PDU of another length"};
inline constexpr MalformedReason kAssociationUnparsed{"association_request_unparsed",
                                                      "an association request that does not parse"};
inline constexpr MalformedReason kSecondAssociation{"second_association_request",
                                                    "a second association request on one connection"};

inline constexpr const MalformedReason* kAll[] = {&kUnknownPdu,     &kAssociationTooLong,  &kPdataTooLong,
                                                  &kFixedPduLength, &kAssociationUnparsed, &kSecondAssociation};

}  // namespace vitrine::netmon::dicom::malformed
