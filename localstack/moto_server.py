"""moto in server mode, with DynamoDB requests handled one at a time.

moto's TransactWriteItems copies the table for rollback and applies its writes without a
lock, so under its threaded server two concurrent transactions (or a transaction and a read)
can interleave: reads see half a transaction, and the copy fails with "dictionary changed
size during iteration". Real DynamoDB transactions are atomic, and the tests rely on that.
Serialising DynamoDB requests restores it; other services (SQS long-polls) stay concurrent.

Usage: python moto_server.py [-H HOST] [-p PORT]
"""
import argparse
import os
import signal
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

_dynamodb = threading.Lock()


def serialise_dynamodb(app):
    def wrapped(environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB_"):
            return app(environ, start_response)
        with _dynamodb:
            # The whole response is produced inside the lock: a lazy body would escape it.
            return [b"".join(app(environ, start_response))]

    return wrapped


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, serialise_dynamodb(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
