#!/usr/bin/python3
"""A Modbus/TCP peer from pymodbus, an implementation independent of netmon's reader.

  modbus_peer.py server PORT
      serves 100 holding registers (each its own address) on 0.0.0.0:PORT until killed.
  modbus_peer.py client HOST PORT ACTION...
      one connection; each ACTION in order: read (3 holding registers from 0), write (register
      16 := 42), read-past (a register the server does not have: an exception answer). Prints
      one line an action: "read ok [0, 1, 2]", "write ok", "read-past exception 2", or
      "<action> failed: <why>" when the connection is cut or times out (and stops there).
"""
import sys


def serve(port):
    from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
    from pymodbus.server import StartTcpServer
    block = ModbusSequentialDataBlock(0, list(range(100)))
    context = ModbusServerContext(slaves=ModbusSlaveContext(hr=block, zero_mode=True), single=True)
    StartTcpServer(context=context, address=("0.0.0.0", port))


def run(host, port, actions):
    from pymodbus.client import ModbusTcpClient
    client = ModbusTcpClient(host, port=port, timeout=3, retries=0)
    if not client.connect():
        print("connect failed")
        return 1
    for action in actions:
        try:
            if action == "read":
                r = client.read_holding_registers(0, 3, slave=1)
            elif action == "write":
                r = client.write_register(16, 42, slave=1)
            elif action == "read-past":
                r = client.read_holding_registers(500, 1, slave=1)
            else:
                raise SystemExit(f"unknown action {action}")
        except Exception as e:  # pymodbus raises its own for a cut connection
            print(f"{action} failed: {type(e).__name__}")
            return 0
        if r.isError():
            code = getattr(r, "exception_code", None)
            print(f"{action} exception {code}" if code is not None else f"{action} failed: {r}")
            if code is None:
                return 0
        else:
            print(f"{action} ok {list(r.registers)}" if hasattr(r, "registers") else f"{action} ok")
        sys.stdout.flush()
    client.close()
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve(int(sys.argv[2]))
    else:
        sys.exit(run(sys.argv[2], int(sys.argv[3]), sys.argv[4:]))
