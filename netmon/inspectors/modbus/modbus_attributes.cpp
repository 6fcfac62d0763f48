#include "modbus_attributes.h"

#include <string>

namespace vitrine::netmon::modbus {

namespace {

// The names modbus_adu.cpp gives (function_name()), OTHER for any other code.
const std::vector<std::string>& functions() {
  static const std::vector<std::string> all = {
      "READ_COILS", "READ_DISCRETE_INPUTS", "READ_HOLDING_REGISTERS", "READ_INPUT_REGISTERS",
      "WRITE_SINGLE_COIL", "WRITE_SINGLE_REGISTER", "READ_EXCEPTION_STATUS", "DIAGNOSTICS",
      "GET_COMM_EVENT_COUNTER", "GET_COMM_EVENT_LOG", "WRITE_MULTIPLE_COILS", "WRITE_MULTIPLE_REGISTERS",
      "REPORT_SERVER_ID", "READ_FILE_RECORD", "WRITE_FILE_RECORD", "MASK_WRITE_REGISTER",
      "READ_WRITE_MULTIPLE_REGISTERS", "READ_FIFO_QUEUE", "ENCAPSULATED_INTERFACE_TRANSPORT", "OTHER"};
  return all;
}

}  // namespace

const policy::Attribute kFunction{"modbus", "functions", "modbus.function", {"Modbus", nullptr},
                                  policy::Compare::GlobNoCase, nullptr, &functions};

const std::vector<policy::Attr>& attributes() {
  static const std::vector<policy::Attr> all = {&kFunction};
  return all;
}

}  // namespace vitrine::netmon::modbus
