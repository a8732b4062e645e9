"""moto in server mode, with DynamoDB requests handled one at a time.

moto's TransactWriteItems copies the table for rollback and applies its writes without a
lock, so under its threaded server two concurrent transactions (or a transaction and a read)
can interleave: reads see half a transaction, and the copy fails with "dictionary changed
size during iteration". Real DynamoDB transactions are atomic, and the tests rely on that.
Serialising DynamoDB requests restores it; other services (SQS long-polls) stay concurrent.

Second, moto's transaction rollback snapshots each table with copy.deepcopy, which costs time in
proportion to the whole table (hundreds of milliseconds once a test table holds a few thousand
items). Under the lock above only one transaction runs at a time, so the snapshot only has to
preserve the items that transaction touches: `cheap_table_snapshots` gives Table a __deepcopy__
that copies the table's item index and deep-copies just those items. Rollback stays exact.

Usage: python moto_server.py [-H HOST] [-p PORT]
"""
import argparse
import json
import os
import signal
import sys
import threading
import time

import copy
from collections import defaultdict

from werkzeug.serving import run_simple
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

_dynamodb = threading.Lock()
# MOTO_TRACE=1 prints one JSON line per DynamoDB request (operation, table, lock wait, time).
_trace = os.environ.get("MOTO_TRACE") == "1"


def serialise_dynamodb(app):
    def wrapped(environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB_"):
            return app(environ, start_response)
        asked = time.monotonic()
        with _dynamodb:
            got = time.monotonic()
            # The whole response is produced inside the lock: a lazy body would escape it.
            body = [b"".join(app(environ, start_response))]
            if _trace:
                done = time.monotonic()
                sys.stderr.write(json.dumps({"op": target.split(".")[-1], "wait_ms": round((got - asked) * 1000, 1), "ms": round((done - got) * 1000, 1)}) + "\n")
            return body

    return wrapped


# {table name: {(hash key, range key)}} of the transaction being applied, else None.
_touched = None


def cheap_table_snapshots():
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        global _touched
        touched = {}
        for entry in transact_items:
            kind, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Item") if kind == "Put" else op.get("Key")
            if not key or table.hash_key_attr not in key:
                continue
            range_attr = table.range_key_attr
            touched.setdefault(table.name, set()).add(
                (DynamoType(key[table.hash_key_attr]), DynamoType(key[range_attr]) if range_attr and range_attr in key else None)
            )
        _touched = touched
        try:
            return original(self, transact_items)
        finally:
            _touched = None

    def snapshot(self, memo):
        keys = None if _touched is None else _touched.get(self.name)
        if keys is None:
            # Not inside a transaction (or an unexpected caller): copy everything, as moto would.
            Table.__deepcopy__ = None
            try:
                return copy.deepcopy(self, memo)
            finally:
                Table.__deepcopy__ = snapshot
        clone = copy.copy(self)
        clone.items = defaultdict(dict)
        for hash_key, value in self.items.items():
            clone.items[hash_key] = dict(value) if self.range_key_attr else value
        for hash_key, range_key in keys:
            if self.range_key_attr:
                current = self.items.get(hash_key, {}).get(range_key)
                if current is not None:
                    clone.items[hash_key][range_key] = copy.deepcopy(current)
            else:
                current = self.items.get(hash_key)
                if current is not None:
                    clone.items[hash_key] = copy.deepcopy(current)
        return clone

    DynamoDBBackend.transact_write_items = transact_write_items
    Table.__deepcopy__ = snapshot


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    cheap_table_snapshots()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, serialise_dynamodb(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
