"""An OpenAI chat call served against Gemini from Python, with gemgate's translator and key pool
(through ctypes, see gemgate.py) — what a Python proxy would do for each client request:

  translate the request → pick a key → call Gemini → report the outcome → fail over on a bad
  key / quota / upstream fault → translate the answer (or stream it chunk by chunk).

    GEMGATE_LIB=build/capi/libgemgate.so.1 python3 examples/python/example.py \\
        --upstream https://generativelanguage.googleapis.com --key AIza... --key AIza... "Hello"
"""

import argparse
import http.client
import json
import sys
import urllib.parse

import gemgate

RETRY_KINDS = ("key_invalid", "quota", "upstream_fault")


def _connect(upstream, timeout):
    u = urllib.parse.urlsplit(upstream)
    cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
    return cls(u.hostname, u.port, timeout=timeout)


def serve(pool, upstream, front, client_body, on_chunk=None, max_attempts=4, timeout=60):
    """Serves one client request. Returns (status, body bytes) for a whole answer; for a stream
    calls on_chunk(bytes) as client SSE bytes become ready and returns (200, b"") — or, when
    the stream failed before anything went out, (status, error body)."""
    x = gemgate.Exchange(front)
    try:
        x.request(client_body)
    except gemgate.Rejected as r:
        return r.http_status, r.body
    tried = []
    status, body, last_kind = 503, b"", None
    for _ in range(max_attempts):
        try:
            key_id, key = pool.pick(x.model, exclude=tried)
        except gemgate.NoKey as e:
            # After a quota or upstream answer, that answer is the most useful one; an invalid
            # key is the operator's problem, not the client's credential: a 503.
            if last_kind in ("quota", "upstream_fault"):
                return status, body
            err = {"error": {"message": "no key can serve: %s" % e, "type": "server_error",
                             "param": None, "code": "no_key"}}
            return 503, json.dumps(err).encode()
        tried.append(key_id)
        headers = dict(x.headers)
        headers["x-goog-api-key"] = key
        conn = _connect(upstream, timeout)
        try:
            conn.request("POST", x.path, body=x.body, headers=headers)
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException):
            conn.close()
            outcome = pool.report_transport_failure(key_id, x.model, connected=False)
            status, body, last_kind = 502, json.dumps({"error": {
                "message": "Gemini could not be reached", "type": "server_error", "param": None,
                "code": "upstream_unreachable"}}).encode(), "upstream_fault"
            if outcome.outage:
                break
            continue
        try:
            if resp.status == 200 and x.is_stream:
                pool.report(key_id, x.model, 200)
                return _stream(x, resp, on_chunk)
            data = resp.read()
        finally:
            conn.close()
        outcome = pool.report(key_id, x.model, resp.status, data)
        status, body = x.response(resp.status, data)
        last_kind = outcome.kind
        if outcome.kind in RETRY_KINDS and not outcome.outage:
            continue
        return status, body
    return status, body


def _stream(x, resp, on_chunk):
    s = x.stream()
    try:
        while True:
            chunk = resp.read1(16384)
            if not chunk:
                break
            out = s.feed(chunk)
            if out:
                on_chunk(out)
            if s.done:
                return 200, b""
        out = s.finish()
    except (OSError, http.client.HTTPException):
        out = s.fail(502, "the upstream connection broke")
    if out:
        on_chunk(out)
    return 200, b""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", default="https://generativelanguage.googleapis.com")
    ap.add_argument("--key", action="append", required=True, help="a Gemini API key (repeat)")
    ap.add_argument("--model", default="gemini-2.5-flash")
    ap.add_argument("--stream", action="store_true")
    ap.add_argument("prompt")
    a = ap.parse_args()
    pool = gemgate.Pool(a.key)
    body = json.dumps({"model": a.model, "stream": a.stream,
                       "messages": [{"role": "user", "content": a.prompt}]})
    status, answer = serve(pool, a.upstream, "openai_chat", body,
                           on_chunk=lambda b: (sys.stdout.write(b.decode()), sys.stdout.flush()))
    if answer:
        print(status, answer.decode())
    print(json.dumps(pool.health(), indent=1), file=sys.stderr)
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
