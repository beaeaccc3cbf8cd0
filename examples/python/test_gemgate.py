"""Tests of the ctypes binding and the example (CTest embed.python; Debian's python3, stdlib only):
the translator and pool calls through ctypes, and example.serve() against the project's stand-in
upstream (tests/support/fake-gemini.mjs, started here with $NODE): chat, stream, a tool call and
an invalid key failed over (calls per key counted by the stand-in).

    GEMGATE_LIB=build/capi/libgemgate.so.1 NODE=node python3 examples/python/test_gemgate.py
"""

import json
import os
import re
import subprocess
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gemgate  # noqa: E402
import example  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KEY_OK = "AIzaSyValidPythonKey_00000000000000001"
KEY_OK2 = "AIzaSyValidPythonKey_00000000000000002"
KEY_BAD = "AIzaSyInvalidPythonKey_000000000000003"
INVALID_BODY = json.dumps({"error": {"code": 400, "message": "API key not valid.",
                                     "status": "INVALID_ARGUMENT", "details": [
                                         {"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                          "reason": "API_KEY_INVALID"}]}})


def chat_body(text, **extra):
    return json.dumps({"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": text}],
                       **extra})


class Binding(unittest.TestCase):
    def test_version(self):
        self.assertRegex(gemgate.version, r"^\d+\.\d+\.\d+$")

    def test_request_and_answer(self):
        x = gemgate.Exchange("openai_chat", response_id="chatcmpl-py", created=1700000000)
        x.request(chat_body("Hi"))
        self.assertEqual(x.path, "/v1beta/models/gemini-2.5-flash:generateContent")
        self.assertEqual(x.headers, {"Content-Type": "application/json"})
        self.assertEqual(x.model, "gemini-2.5-flash")
        self.assertIn(b'"text":"Hi"', x.body)
        gemini = json.dumps({"candidates": [{"content": {"role": "model", "parts": [{"text": "Yo"}]},
                                             "finishReason": "STOP"}]})
        status, body = x.response(200, gemini)
        self.assertEqual(status, 200)
        answer = json.loads(body)
        self.assertEqual(answer["id"], "chatcmpl-py")
        self.assertEqual(answer["choices"][0]["message"]["content"], "Yo")
        status, body = x.response(400, INVALID_BODY)
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(body)["error"]["code"], "invalid_api_key")

    def test_rejected(self):
        x = gemgate.Exchange("openai_chat")
        with self.assertRaises(gemgate.Rejected) as cm:
            x.request('{"model":"gemini-2.5-flash","messages":"nope"}')
        self.assertEqual(cm.exception.http_status, 400)
        self.assertIn(b"messages", cm.exception.body)
        with self.assertRaises(gemgate.Rejected):
            x.request(b"\xff\xfe")

    def test_stream_any_split(self):
        x = gemgate.Exchange("openai_chat", response_id="chatcmpl-s", created=1)
        x.request(chat_body("Hi", stream=True))
        self.assertTrue(x.is_stream)
        sse = ('data: {"candidates":[{"content":{"parts":[{"text":"h\u00e9 \u4e16"}]}}]}\r\n\r\n'
               'data: {"candidates":[{"content":{"parts":[{"text":"!"}]},"finishReason":"STOP"}]}'
               '\r\n\r\n').encode()
        s = x.stream()
        whole = s.feed(sse) + s.finish()
        for cut in range(len(sse) + 1):
            t = x.stream()
            self.assertEqual(t.feed(sse[:cut]) + t.feed(sse[cut:]) + t.finish(), whole)
        self.assertTrue(whole.endswith(b"data: [DONE]\n\n"))
        self.assertIn("h\u00e9 \u4e16".encode(), whole)

    def test_anthropic(self):
        x = gemgate.Exchange("anthropic_messages", response_id="msg_py")
        x.request(json.dumps({"model": "claude-sonnet-4-5", "max_tokens": 10,
                              "messages": [{"role": "user", "content": "Hi"}]}))
        x.set_upstream_model("gemini-2.5-pro")
        self.assertEqual(x.model, "gemini-2.5-pro")
        status, body = x.response(429, '{"error":{"code":429,"status":"RESOURCE_EXHAUSTED"}}')
        self.assertEqual(status, 429)
        self.assertEqual(json.loads(body)["type"], "error")

    def test_responses(self):
        x = gemgate.Exchange("openai_responses", response_id="resp_py", created=1,
                             seal_key=b"sixteen-bytes-or-more")
        x.request(json.dumps({"model": "gemini-2.5-flash", "input": "Hi"}))
        self.assertEqual(x.path, "/v1beta/models/gemini-2.5-flash:generateContent")
        status, body = x.response(200, json.dumps({"candidates": [
            {"content": {"parts": [{"text": "Yo"}]}, "finishReason": "STOP"}]}))
        self.assertEqual(status, 200)
        r = json.loads(body)
        self.assertEqual((r["id"], r["object"], r["status"]), ("resp_py", "response", "completed"))
        with self.assertRaises(gemgate.Rejected) as cm:
            gemgate.Exchange("openai_responses").request(
                '{"model":"gemini-2.5-flash","input":"x","previous_response_id":"resp_1"}')
        self.assertIn(b"previous_response_id", cm.exception.body)

    def test_pool(self):
        pool = gemgate.Pool([KEY_OK, KEY_BAD], policy={"cooldown_default_ms": 1000})
        ids = {pool.pick("gemini-2.5-flash")[0] for _ in range(4)}
        self.assertEqual(ids, {1, 2})
        out = pool.report(2, "gemini-2.5-flash", 400, INVALID_BODY)
        self.assertEqual(out.kind, "key_invalid")
        self.assertFalse(out.outage)
        self.assertEqual({pool.pick("gemini-2.5-flash")[0] for _ in range(4)}, {1})
        with self.assertRaises(gemgate.NoKey):
            pool.pick("gemini-2.5-flash", exclude=[1])
        h = pool.health()
        self.assertTrue(h["keys"][1]["disabled"])
        self.assertNotIn(KEY_BAD, json.dumps(h))
        out = pool.report(1, "gemini-2.5-flash", 429,
                          '{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":'
                          '"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"12s"}]}}')
        self.assertEqual((out.kind, out.retry_delay_ms), ("quota", 12000))
        with self.assertRaises(gemgate.Error) as cm:
            gemgate.Pool(["tiny-secret-XYZ"])
        self.assertEqual(cm.exception.status, "invalid_argument")
        self.assertNotIn("tiny-secret-XYZ", str(cm.exception))


@unittest.skipUnless(os.environ.get("NODE"), "NODE not set: the stand-in upstream needs node")
class AgainstStandIn(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = subprocess.Popen(
            [os.environ["NODE"], os.path.join(ROOT, "tests/support/fake-gemini.mjs"), "--port", "0"],
            stderr=subprocess.PIPE, text=True)
        line = cls.fake.stderr.readline()
        m = re.search(r"listening on (http://\S+)", line)
        if not m:
            cls.fake.kill()
            raise RuntimeError("the stand-in did not start: " + line)
        cls.url = m.group(1)

    @classmethod
    def tearDownClass(cls):
        cls.fake.terminate()
        cls.fake.wait(10)

    def setUp(self):
        urllib.request.urlopen(urllib.request.Request(self.url + "/__reset", method="POST")).read()

    def calls(self):
        return json.loads(urllib.request.urlopen(self.url + "/__stats").read())["calls"]

    def test_chat(self):
        pool = gemgate.Pool([KEY_OK])
        status, body = example.serve(pool, self.url, "openai_chat", chat_body("Hello there"))
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["choices"][0]["message"]["content"], "echo: Hello there")

    def test_stream(self):
        pool = gemgate.Pool([KEY_OK])
        chunks = []
        status, _ = example.serve(pool, self.url, "openai_chat",
                                  chat_body("Stream [[chunks=4]]", stream=True), chunks.append)
        self.assertEqual(status, 200)
        sse = b"".join(chunks).decode()
        self.assertTrue(sse.endswith("data: [DONE]\n\n"))
        text = "".join(json.loads(e[6:])["choices"][0]["delta"].get("content") or ""
                       for e in sse.split("\n\n") if e.startswith("data: {"))
        self.assertEqual(text, "echo: Stream #1 #2 #3")

    def test_tool_call(self):
        pool = gemgate.Pool([KEY_OK])
        tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
            "type": "object", "properties": {"city": {"type": "string"}}}}}]
        status, body = example.serve(pool, self.url, "openai_chat",
                                     chat_body("Weather? [[call=get_weather]]", tools=tools))
        self.assertEqual(status, 200, body)
        msg = json.loads(body)["choices"][0]
        self.assertEqual(msg["finish_reason"], "tool_calls")
        self.assertEqual(msg["message"]["tool_calls"][0]["function"]["name"], "get_weather")

    def test_invalid_key_failed_over(self):
        pool = gemgate.Pool([KEY_BAD, KEY_OK, KEY_OK2])
        for _ in range(3):
            status, body = example.serve(pool, self.url, "openai_chat", chat_body("Hi"))
            self.assertEqual(status, 200, body)
        calls = self.calls()
        self.assertEqual(calls.get(KEY_BAD), 1)  # tried once, then disabled
        self.assertEqual(calls.get(KEY_OK, 0) + calls.get(KEY_OK2, 0), 3)
        self.assertTrue(pool.health()["keys"][0]["disabled"])

    def test_all_keys_invalid(self):
        # The client's credential is not at fault: a 503 naming no key, not Gemini's 401.
        pool = gemgate.Pool([KEY_BAD])
        for _ in range(2):
            status, body = example.serve(pool, self.url, "openai_chat", chat_body("Hi"))
            self.assertEqual(status, 503)
            self.assertIn(b"no key can serve", body)
            self.assertNotIn(KEY_BAD.encode(), body)
        self.assertEqual(self.calls().get(KEY_BAD), 1)

    def test_quota_everywhere_keeps_the_429(self):
        pool = gemgate.Pool(["AIzaSyQuotaPythonKey_0000000000000000001"])
        status, body = example.serve(pool, self.url, "openai_chat", chat_body("Hi"))
        self.assertEqual(status, 429)
        self.assertEqual(json.loads(body)["error"]["type"], "rate_limit_error")


if __name__ == "__main__":
    unittest.main(verbosity=2)
