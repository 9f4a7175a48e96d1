"""A real SMTP server for parceld-notify's tests (aiosmtpd): stores each message it accepts as
JSON (headers and decoded parts) in the directory given, numbered in the order received.
Refuses `reject@…` recipients for good (550) and `later@…` ones once (451). An optional third
argument makes it take that many milliseconds over each message before answering (a slow
server, so that a test can stop a sender in the middle of a batch). Prints `ready` once
listening and stops when its standard input closes."""
import asyncio
import json
import pathlib
import sys
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, outdir, delay):
        self.outdir = outdir
        self.delay = delay
        self.count = 0
        self.deferred = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject@"):
            return "550 5.1.1 no such user"
        if address.startswith("later@") and address not in self.deferred:
            self.deferred.add(address)
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        parts = {}
        for part in message.walk():
            if part.get_content_maintype() == "text":
                parts[part.get_content_subtype()] = part.get_content()
        self.count += 1
        stored = {
            "to": envelope.rcpt_tos,
            "subject": str(message["Subject"]),
            "message_id": str(message["Message-ID"]),
            "list_unsubscribe": str(message["List-Unsubscribe"]),
            "list_unsubscribe_post": str(message["List-Unsubscribe-Post"]),
            "text": parts.get("plain", ""),
            "html": parts.get("html", ""),
        }
        path = self.outdir / f"{self.count:05}.json"
        path.with_suffix(".tmp").write_text(json.dumps(stored))
        path.with_suffix(".tmp").rename(path)
        return "250 2.0.0 stored"


def main():
    outdir = pathlib.Path(sys.argv[1])
    port = int(sys.argv[2])
    delay = int(sys.argv[3]) / 1000 if len(sys.argv) > 3 else 0
    controller = Controller(Handler(outdir, delay), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()


main()
