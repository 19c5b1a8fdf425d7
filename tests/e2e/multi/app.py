"""The application of the multi-resource spec: answers GET / on CDSW_APP_PORT with its name."""

import os
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"wine scorer ({os.environ.get('SCORER_MODE', 'unset')})".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


HTTPServer(("127.0.0.1", int(os.environ["CDSW_APP_PORT"])), Handler).serve_forever()
