# Sourced by run.sh and demo.sh: refuse to start, in one line, when a port they need is taken.

# require_free_port VARIABLE PORT: exit 1 unless Daphne could listen on 127.0.0.1:PORT.
# The probe binds as Twisted does (SO_REUSEADDR), so a port a stopped run left in TIME_WAIT counts as free.
require_free_port() {
    local variable="$1" port="$2"
    if [[ ! "$port" =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then
        echo "$variable=$port is not a port number (1-65535)." >&2
        exit 1
    fi
    if ! python3 -c '
import socket, sys
with socket.socket() as sock:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", int(sys.argv[1])))
' "$port" 2>/dev/null; then
        echo "Port $port is already in use: stop what listens there, or choose another with $variable=<port>." >&2
        exit 1
    fi
}
