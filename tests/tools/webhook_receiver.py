"""An HTTP receiver for the webhook and SMS-gateway tests: it records every POST as one JSON line and, given
a Standard Webhooks secret, verifies each signature with the reference library (`standardwebhooks`).

    webhook_receiver.py PORT RECORD_FILE [--secret whsec_...] [--fail-first N] [--fail-always]

It answers 500 to the first N requests (or to all), then 200; each line of RECORD_FILE holds the request's
webhook-id, whether its signature verified, the status given and the body.
"""

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

parser = argparse.ArgumentParser()
parser.add_argument("port", type=int)
parser.add_argument("record")
parser.add_argument("--secret")
parser.add_argument("--fail-first", type=int, default=0)
parser.add_argument("--fail-always", action="store_true")
args = parser.parse_args()

lock = threading.Lock()
seen = 0


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
        verified = None
        if args.secret:
            try:
                Webhook(args.secret).verify(body, dict(self.headers.items()))
                verified = True
            except WebhookVerificationError:
                verified = False
        with lock:
            seen += 1
            status = 500 if args.fail_always or seen <= args.fail_first else 200
            with open(args.record, "a") as f:
                f.write(json.dumps({
                    "id": self.headers.get("webhook-id"),
                    "verified": verified,
                    "status": status,
                    "path": self.path,
                    "body": body,
                }) + "\n")
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_):
        pass


ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
