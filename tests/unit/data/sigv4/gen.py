#!/usr/bin/python3
"""Regenerates cases.txt: requests signed by botocore itself (the copy the
Debian awscli package ships), with the inputs, for test_sigv4.

    /usr/bin/python3 tests/unit/data/sigv4/gen.py > tests/unit/data/sigv4/cases.txt
"""
import datetime as real_datetime
import sys
from urllib.parse import urlsplit

sys.path.insert(0, '/usr/lib/python3/dist-packages/awscli')
import botocore.auth as auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

T0 = real_datetime.datetime(2026, 11, 23, 10, 0, 0)
EPOCH = int(T0.replace(tzinfo=real_datetime.timezone.utc).timestamp())
ECS = 'AmazonEC2ContainerServiceV20141113.'
GOOD = Credentials('AKIDEXAMPLE', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY')


class FixedClock:
    class datetime(real_datetime.datetime):
        @classmethod
        def utcnow(cls):
            return T0


auth.datetime = FixedClock


def sign(url, body, headers, creds=GOOD, region='eu-west-3', params=None):
    req = AWSRequest(method='POST', url=url, data=body, headers=headers, params=params)
    auth.SigV4Auth(creds, 'ecs', region).add_auth(req)
    prepared = req.prepare()
    parts = urlsplit(prepared.url)
    target = parts.path + ('?' + parts.query if parts.query else '')
    hdrs = dict(prepared.headers)
    hdrs['Host'] = parts.netloc
    body = prepared.body or b''
    return target, hdrs, body.encode() if isinstance(body, str) else body


def case(name, expect, target, headers, body, now=EPOCH):
    print('case', name)
    print('target', target)
    for k, v in headers.items():
        print('header', '%s: %s' % (k, v))
    if isinstance(body, str):
        body = body.encode()
    print('body', body.hex())
    print('now', now)
    print('expect', expect)
    print('end')


def ecs(action, body='{}'):
    return {'X-Amz-Target': ECS + action,
            'Content-Type': 'application/x-amz-json-1.1'}, body


h, b = ecs('ListTaskDefinitions', '{"familyPrefix":"web"}')
t, hd, bd = sign('http://127.0.0.1:8080/', b, h)
case('basic', 'OK', t, hd, bd)
case('clock 14 minutes ahead of the signer', 'OK', t, hd, bd, EPOCH + 14 * 60)
case('clock 14 minutes behind the signer', 'OK', t, hd, bd, EPOCH - 14 * 60)
case('skewed: signed 16 minutes ago', 'EXPIRED', t, hd, bd, EPOCH + 16 * 60)
case('skewed: signed 16 minutes ahead', 'EXPIRED', t, hd, bd, EPOCH - 16 * 60)
case('tampered body', 'BAD_SIGNATURE', t, hd, bd.replace(b'web', b'wex'))
tampered = dict(hd)
tampered['X-Amz-Target'] = ECS + 'DeleteTaskDefinitions'
case('tampered signed header', 'BAD_SIGNATURE', t, tampered, bd)
case('tampered query', 'BAD_SIGNATURE', '/?x=1', hd, bd)
nohdr = {k: v for k, v in hd.items() if k != 'Authorization'}
case('no Authorization', 'MISSING', t, nohdr, bd)

t, hd, bd = sign('http://127.0.0.1:8080/', b, h,
                 creds=Credentials('AKIDEXAMPLE', 'not-the-secret'))
case('wrong secret', 'BAD_SIGNATURE', t, hd, bd)
t, hd, bd = sign('http://127.0.0.1:8080/', b, h,
                 creds=Credentials('AKIDNOBODY', 'whatever'))
case('unknown key', 'UNKNOWN_KEY', t, hd, bd)
t, hd, bd = sign('http://127.0.0.1:8080/', b, h, region='us-east-1')
case('another region', 'BAD_SIGNATURE', t, hd, bd)
t, hd, bd = sign('http://127.0.0.1:8080/', b, h,
                 creds=Credentials('AKIDCI0000000001', 'c2VjcmV0IGZvciBiZXJ0aCB0ZXN0cw'))
case('second profile', 'OK', t, hd, bd)

# A query in the URL is signed as written: keep it in AWS's own encoding
# (botocore does not normalise it; the server decodes and re-encodes).
t, hd, bd = sign('http://127.0.0.1:8080/?b=2&a=x%20y&a=1&c=&d=%2F~', b, h)
case('query string', 'OK', t, hd, bd)
t, hd, bd = sign('http://127.0.0.1:8080/', b, h,
                 params={'z': 'last one', 'a': 'é/+', 'm': ''})
case('query from params', 'OK', t, hd, bd)
t, hd, bd = sign('http://127.0.0.1:8080/some%20path/%C3%BC/a+b/./x/../y~z/', b, h)
case('path needing encoding', 'OK', t, hd, bd)

h2 = dict(h)
h2['X-Amz-Content-SHA256'] = auth.sha256(b.encode()).hexdigest()
h2['X-Custom'] = '  spaced    out  value '
t, hd, bd = sign('http://127.0.0.1:8080/', b, h2)
case('x-amz-content-sha256 and spaces', 'OK', t, hd, bd)
hd2 = dict(hd)
hd2['X-Amz-Content-SHA256'] = '0' * 64
case('x-amz-content-sha256 mismatch', 'BAD_SIGNATURE', t, hd2, bd)

h, b = ecs('RegisterTaskDefinition', '')
t, hd, bd = sign('http://127.0.0.1:8080/', b, h)
case('empty body', 'OK', t, hd, bd)
