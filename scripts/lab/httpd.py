"""A one-directory HTTP/1.0 server for the lab pods: python3 httpd.py ADDR PORT DIR

python3 -m http.server would do, except that it resolves its bind address
(socket.getfqdn) at start: a DNS query from the pod to the host's resolver,
which has no business in a lab that must not send anything anywhere else.
HTTP/1.0 closes the connection after each response, so one request gives a
complete TCP exchange: handshake, GET, response, FIN from both sides.
"""
import functools
import http.server
import socketserver
import sys


class Server(socketserver.TCPServer):
    allow_reuse_address = True


addr, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
with Server((addr, port), handler) as httpd:
    httpd.serve_forever()
