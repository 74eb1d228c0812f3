#!/usr/bin/env python3
"""cw_endpoint.py: a local CloudWatch PutMetricData endpoint for the tests.

Each POST is checked the way CloudWatch would: the request is rebuilt from
what arrived (method, URL, Content-Type, Host, X-Amz-Date, body) and signed
again with botocore's own SigV4Auth, service "monitoring", with the
credentials of --credentials/--profile and the request's own X-Amz-Date;
the Authorization header must be identical.  Like AWS, it re-signs the
headers the request names in SignedHeaders, which must include host and
x-amz-date.  The form body is decoded into
metrics and validated against botocore's model of PutMetricData (and the
API's limits: <= 1000 data, <= 1 MB, <= 30 dimensions, finite values).

Every request is recorded as one JSON line in --record: {"n", "status",
"sig_ok", "error", "namespace", "metrics": [...], "body_sha"}.
--fail N answers the first N requests 500, --throttle N the first N (after
those) 400 Throttling, --hang never answers.  --port-file receives the port.
"""
import argparse
import configparser
import datetime
import hashlib
import json
import math
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.auth
import botocore.session
import botocore.validate
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

STATE = {"n": 0}
STATE_LOCK = threading.Lock()


def resign(args, creds, method, url, headers, body):
    """The Authorization botocore computes for this request."""
    amz_date = headers.get("X-Amz-Date", "")
    when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
    # As AWS does: exactly the headers the client says it signed.
    signed = set()
    for part in headers.get("Authorization", "").split(","):
        part = part.strip()
        if part.startswith("SignedHeaders="):
            signed = set(part[len("SignedHeaders="):].split(";"))
    keep = {k: v for k, v in headers.items() if k.lower() in signed}
    req = AWSRequest(method=method, url=url, headers=keep, data=body)
    auth = botocore.auth.SigV4Auth(creds, "monitoring", args.region)
    # add_auth() reads the clock (utcnow in older botocore): run its steps
    # with the request's own X-Amz-Date instead.
    req.context["timestamp"] = when.strftime(botocore.auth.SIGV4_TIMESTAMP)
    auth._modify_request_before_signing(req)
    cr = auth.canonical_request(req)
    sig = auth.signature(auth.string_to_sign(req, cr), req)
    auth._inject_signature_to_request(req, sig)
    return req.headers["Authorization"]


def decode(body, op_model):
    """Form body -> (namespace, metrics, error or None)."""
    if len(body) > 1024 * 1024:
        return None, [], "body over 1 MB"
    form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True,
                                 strict_parsing=True)
    one = {k: v[0] for k, v in form.items()}
    if any(len(v) != 1 for v in form.values()):
        return None, [], "a key sent twice"
    if one.get("Action") != "PutMetricData" or one.get("Version") != "2010-08-01":
        return None, [], "Action/Version: %r %r" % (one.get("Action"), one.get("Version"))
    ns = one.get("Namespace")
    units = op_model.input_shape.members["MetricData"].member.members["Unit"].enum
    metrics, data = [], []
    i = 1
    while "MetricData.member.%d.MetricName" % i in one:
        p = "MetricData.member.%d." % i
        values, counts, k = [], [], 1
        while p + "Values.member.%d" % k in one:
            values.append(float(one[p + "Values.member.%d" % k]))
            counts.append(float(one[p + "Counts.member.%d" % k]))
            k += 1
        if values and p + "Value" in one:
            return ns, [], "member %d has both Value and Values" % i
        if len(values) > 150:
            return ns, [], "more than 150 Values in member %d" % i
        value = float(one[p + "Value"]) if not values else None
        if not all(math.isfinite(v) for v in ([value] if value is not None else values + counts)):
            return ns, [], "non-finite value in member %d" % i
        dims, j = {}, 1
        dlist = []
        while p + "Dimensions.member.%d.Name" % j in one:
            dn = one[p + "Dimensions.member.%d.Name" % j]
            dv = one[p + "Dimensions.member.%d.Value" % j]
            dims[dn] = dv
            dlist.append({"Name": dn, "Value": dv})
            j += 1
        if len(dlist) > 30:
            return ns, [], "more than 30 dimensions in member %d" % i
        ts = one[p + "Timestamp"]
        unit = one.get(p + "Unit")
        if unit not in units:
            return ns, [], "member %d: Unit %r is not a CloudWatch unit" % (i, unit)
        metrics.append({"name": one[p + "MetricName"], "value": value,
                        "values": values, "counts": counts,
                        "unit": unit, "timestamp": ts,
                        "dimensions": dims})
        datum = {"MetricName": one[p + "MetricName"],
                 "Unit": unit, "Dimensions": dlist,
                 "Timestamp": datetime.datetime.strptime(
                     ts, "%Y-%m-%dT%H:%M:%S.%fZ")}
        if values:
            datum["Values"], datum["Counts"] = values, counts
        else:
            datum["Value"] = value
        data.append(datum)
        i += 1
    known = {"Action", "Version", "Namespace"}
    for k in one:
        if k not in known and not k.startswith("MetricData.member."):
            return ns, metrics, "unknown parameter " + k
    expected = sum(4 + 2 * len(m["dimensions"]) + max(0, 2 * len(m["values"]) - 1)
                   for m in metrics) + 2
    if len(one) != expected + (1 if ns is not None else 0):
        return ns, metrics, "members not numbered 1..N without gaps"
    if len(metrics) > 1000:
        return ns, metrics, "more than 1000 data"
    try:
        botocore.validate.validate_parameters(
            {"Namespace": ns, "MetricData": data}, op_model.input_shape)
    except Exception as e:  # botocore's ParamValidationError
        return ns, metrics, "model: %s" % e
    return ns, metrics, None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def answer(self, status, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        args, creds, op = self.server.args, self.server.creds, self.server.op
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with STATE_LOCK:
            STATE["n"] += 1
            n = STATE["n"]
        rec = {"n": n, "body_sha": hashlib.sha256(body).hexdigest()}
        got = self.headers.get("Authorization", "")
        try:
            want = resign(args, creds, "POST",
                          "http://%s%s" % (self.headers["Host"], self.path),
                          dict(self.headers.items()), body)
            rec["sig_ok"] = got == want and ";host;" in (
                ";" + got.split("SignedHeaders=")[-1].split(",")[0] + ";") and \
                "x-amz-date" in got
            if not rec["sig_ok"]:
                rec["error"] = "signature: got %r, botocore %r" % (got, want)
        except Exception as e:
            rec["sig_ok"] = False
            rec["error"] = "signature: %s" % e
        if rec["sig_ok"]:
            try:
                ns, metrics, err = decode(body, op)
            except Exception as e:
                ns, metrics, err = None, [], "decode: %s" % e
            rec["namespace"], rec["metrics"] = ns, metrics
            if err:
                rec["error"] = err
        if args.hang:
            rec["status"] = "hang"
            self.server.record(rec)
            threading.Event().wait(3600)
            return
        if not rec["sig_ok"]:
            status, text = 403, ("<ErrorResponse><Error><Type>Sender</Type><Code>"
                                 "SignatureDoesNotMatch</Code></Error></ErrorResponse>")
        elif rec.get("error"):
            status, text = 400, ("<ErrorResponse><Error><Type>Sender</Type><Code>"
                                 "InvalidParameterValue</Code></Error></ErrorResponse>")
        elif n <= args.fail:
            status, text = 500, ("<ErrorResponse><Error><Type>Receiver</Type><Code>"
                                 "InternalServiceError</Code></Error></ErrorResponse>")
        elif n <= args.fail + args.throttle:
            status, text = 400, ("<ErrorResponse><Error><Type>Sender</Type><Code>"
                                 "Throttling</Code><Message>Rate exceeded</Message>"
                                 "</Error></ErrorResponse>")
        else:
            status, text = 200, ("<PutMetricDataResponse xmlns=\"http://monitoring."
                                 "amazonaws.com/doc/2010-08-01/\"><ResponseMetadata>"
                                 "<RequestId>r%d</RequestId></ResponseMetadata>"
                                 "</PutMetricDataResponse>" % n)
        rec["status"] = status
        self.server.record(rec)
        self.answer(status, text)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def record(self, rec):
        with self.lock:
            with open(self.args.record, "a") as f:
                f.write(json.dumps(rec) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--credentials", required=True)
    ap.add_argument("--profile", default="default")
    ap.add_argument("--region", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--fail", type=int, default=0)
    ap.add_argument("--throttle", type=int, default=0)
    ap.add_argument("--hang", action="store_true")
    args = ap.parse_args()
    cp = configparser.ConfigParser()
    cp.read(args.credentials)
    p = cp[args.profile]
    creds = Credentials(p["aws_access_key_id"], p["aws_secret_access_key"],
                        p.get("aws_session_token"))
    model = botocore.session.get_session().get_service_model("cloudwatch")
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.args, srv.creds, srv.lock = args, creds, threading.Lock()
    srv.op = model.operation_model("PutMetricData")
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
