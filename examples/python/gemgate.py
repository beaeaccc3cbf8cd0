"""gemgate's C ABI (libgemgate.so.1) from Python, through ctypes — standard library only.

    import gemgate
    x = gemgate.Exchange("openai_chat")
    x.request(openai_body)                 # raises Rejected(status, body) for a bad request
    x.path, x.headers, x.body, x.model     # the Gemini call (add the key as x-goog-api-key)
    status, body = x.response(upstream_status, upstream_body)
    s = x.stream(); s.feed(chunk) -> bytes; s.finish() -> bytes

    pool = gemgate.Pool(["AIza...", "AIza..."], policy={"cooldown_default_ms": 60000})
    key_id, key = pool.pick("gemini-2.5-flash", exclude=[...])   # raises NoKey
    outcome = pool.report(key_id, "gemini-2.5-flash", status, body)   # Outcome(kind=...)
    pool.health()                          # dict; never a whole key

The library is found through $GEMGATE_LIB (a path), else the loader's search (libgemgate.so.1).
Every buffer the library hands out is copied into Python bytes and freed at once with
gemgate_free; handles are destroyed by close() or when the object is collected.
"""

import ctypes
import ctypes.util
import json
import os
from collections import namedtuple

_c = ctypes


def _load():
    path = os.environ.get("GEMGATE_LIB") or ctypes.util.find_library("gemgate") or "libgemgate.so.1"
    return _c.CDLL(path)


_lib = _load()
_charpp = _c.POINTER(_c.c_void_p)


def _fn(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


class _Outcome(_c.Structure):
    _fields_ = [("kind", _c.c_int), ("http_status", _c.c_int), ("retry_delay_ms", _c.c_int64),
                ("outage", _c.c_int), ("reason", _c.c_char_p)]


_st = _c.c_int
_abi_version = _fn("gemgate_abi_version", _c.c_int)
_version = _fn("gemgate_version", _c.c_char_p)
_status_name = _fn("gemgate_status_name", _c.c_char_p, _st)
_last_error = _fn("gemgate_last_error", _c.c_char_p)
_free = _fn("gemgate_free", None, _c.c_void_p)
_x_create = _fn("gemgate_exchange_create", _st, _c.c_int, _c.POINTER(_c.c_void_p))
_x_destroy = _fn("gemgate_exchange_destroy", None, _c.c_void_p)
_x_set_id = _fn("gemgate_exchange_set_response_id", _st, _c.c_void_p, _c.c_char_p, _c.c_int64)
_x_seal = _fn("gemgate_exchange_set_seal_key", _st, _c.c_void_p, _c.c_char_p, _c.c_size_t)
_x_request = _fn("gemgate_exchange_request", _st, _c.c_void_p, _c.c_char_p, _c.c_size_t)
_x_path = _fn("gemgate_exchange_upstream_path", _c.c_char_p, _c.c_void_p)
_x_body = _fn("gemgate_exchange_upstream_body", _c.c_void_p, _c.c_void_p, _c.POINTER(_c.c_size_t))
_x_headers = _fn("gemgate_exchange_upstream_headers", _c.c_char_p, _c.c_void_p)
_x_model = _fn("gemgate_exchange_model", _c.c_char_p, _c.c_void_p)
_x_set_model = _fn("gemgate_exchange_set_upstream_model", _st, _c.c_void_p, _c.c_char_p)
_x_is_stream = _fn("gemgate_exchange_is_stream", _c.c_int, _c.c_void_p)
_x_err_status = _fn("gemgate_exchange_error_status", _c.c_int, _c.c_void_p)
_x_err_body = _fn("gemgate_exchange_error_body", _c.c_char_p, _c.c_void_p)
_x_retry = _fn("gemgate_exchange_retry_after_ms", _c.c_int64, _c.c_void_p)
_x_response = _fn("gemgate_exchange_response", _st, _c.c_void_p, _c.c_int, _c.c_char_p,
                  _c.c_size_t, _c.POINTER(_c.c_int), _c.POINTER(_c.c_void_p),
                  _c.POINTER(_c.c_size_t))
_s_create = _fn("gemgate_stream_create", _st, _c.c_void_p, _c.POINTER(_c.c_void_p))
_s_destroy = _fn("gemgate_stream_destroy", None, _c.c_void_p)
_s_feed = _fn("gemgate_stream_feed", _st, _c.c_void_p, _c.c_char_p, _c.c_size_t,
              _c.POINTER(_c.c_void_p), _c.POINTER(_c.c_size_t))
_s_finish = _fn("gemgate_stream_finish", _st, _c.c_void_p, _c.POINTER(_c.c_void_p),
                _c.POINTER(_c.c_size_t))
_s_fail = _fn("gemgate_stream_fail", _st, _c.c_void_p, _c.c_int, _c.c_char_p,
              _c.POINTER(_c.c_void_p), _c.POINTER(_c.c_size_t))
_s_done = _fn("gemgate_stream_done", _c.c_int, _c.c_void_p)
_s_started = _fn("gemgate_stream_started", _c.c_int, _c.c_void_p)
_p_create = _fn("gemgate_pool_create", _st, _c.POINTER(_c.c_char_p), _c.c_size_t, _c.c_char_p,
                _c.POINTER(_c.c_void_p))
_p_destroy = _fn("gemgate_pool_destroy", None, _c.c_void_p)
_p_pick = _fn("gemgate_pool_pick", _st, _c.c_void_p, _c.c_char_p, _c.POINTER(_c.c_int64),
              _c.c_size_t, _c.c_int64, _c.POINTER(_c.c_int64), _c.POINTER(_c.c_char_p),
              _c.POINTER(_c.c_int64))
_p_report = _fn("gemgate_pool_report", _st, _c.c_void_p, _c.c_int64, _c.c_char_p, _c.c_int,
                _c.c_char_p, _c.c_size_t, _c.c_char_p, _c.c_size_t, _c.c_int64,
                _c.POINTER(_Outcome))
_p_report_tf = _fn("gemgate_pool_report_transport_failure", _st, _c.c_void_p, _c.c_int64,
                   _c.c_char_p, _c.c_int, _c.c_int64, _c.POINTER(_Outcome))
_p_health = _fn("gemgate_pool_health_json", _st, _c.c_void_p, _c.POINTER(_c.c_void_p),
                _c.POINTER(_c.c_size_t))

ABI_VERSION = 1
FRONTS = {"openai_chat": 1, "anthropic_messages": 2, "openai_responses": 3}
OUTCOME_KINDS = ["success", "key_invalid", "quota", "upstream_fault", "unreachable", "client_error"]
NO_KEY = 3
REJECTED = 2

Outcome = namedtuple("Outcome", "kind http_status retry_delay_ms outage reason")


class Error(Exception):
    """A gemgate call failed: .status is its gemgate_status name, str() its message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Rejected(Error):
    """The client's request cannot be translated: answer it with .http_status and .body."""

    def __init__(self, http_status, body, message):
        super().__init__("rejected", message)
        self.http_status = http_status
        self.body = body


class NoKey(Error):
    """No key can serve; .retry_after_ms says how long until one is back (0: unknown)."""

    def __init__(self, message, retry_after_ms):
        super().__init__("no_key", message)
        self.retry_after_ms = retry_after_ms


def _check(status):
    if status != 0:
        raise Error(_status_name(status).decode(), _last_error().decode("utf-8", "replace"))


def _take(buf, length):
    try:
        return _c.string_at(buf.value, length.value) if buf.value else b""
    finally:
        _free(buf)


def _bytes(data):
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


if _abi_version() != ABI_VERSION:
    raise ImportError("libgemgate ABI %d, this binding speaks %d" % (_abi_version(), ABI_VERSION))

version = _version().decode()


class Exchange:
    """One client request of a front ("openai_chat", "anthropic_messages", "openai_responses")
    and its answer. seal_key: the Responses front's reasoning seal key (bytes, >= 16)."""

    def __init__(self, front="openai_chat", response_id=None, created=0, seal_key=None):
        self._h = None
        if front not in FRONTS:
            raise ValueError("unknown front %r" % (front,))
        h = _c.c_void_p()
        _check(_x_create(FRONTS[front], _c.byref(h)))
        self._h = h
        if response_id:
            _check(_x_set_id(self._h, response_id.encode(), created))
        if seal_key is not None:
            key = _bytes(seal_key)
            _check(_x_seal(self._h, key, len(key)))

    def close(self):
        if self._h:
            _x_destroy(self._h)
            self._h = None

    __del__ = close

    def request(self, body):
        data = _bytes(body)
        st = _x_request(self._h, data, len(data))
        if st == REJECTED:
            raise Rejected(_x_err_status(self._h), _x_err_body(self._h),
                           _last_error().decode("utf-8", "replace"))
        _check(st)

    def set_upstream_model(self, model):
        _check(_x_set_model(self._h, model.encode()))

    @property
    def path(self):
        p = _x_path(self._h)
        return p.decode() if p is not None else None

    @property
    def body(self):
        n = _c.c_size_t()
        p = _x_body(self._h, _c.byref(n))
        return _c.string_at(p, n.value) if p else None

    @property
    def headers(self):
        raw = _x_headers(self._h)
        out = {}
        for line in (raw or b"").decode().split("\r\n"):
            if ":" in line:
                name, value = line.split(":", 1)
                out[name] = value.strip()
        return out

    @property
    def model(self):
        m = _x_model(self._h)
        return m.decode() if m is not None else None

    @property
    def is_stream(self):
        return bool(_x_is_stream(self._h))

    @property
    def retry_after_ms(self):
        v = _x_retry(self._h)
        return None if v < 0 else v

    def response(self, upstream_status, body):
        """Gemini's whole answer → (client status, client body bytes)."""
        data = _bytes(body)
        status, buf, n = _c.c_int(), _c.c_void_p(), _c.c_size_t()
        _check(_x_response(self._h, upstream_status, data, len(data), _c.byref(status),
                           _c.byref(buf), _c.byref(n)))
        return status.value, _take(buf, n)

    def stream(self):
        return Stream(self)


class Stream:
    """Gemini SSE bytes → the front's SSE bytes, fed in chunks of any size."""

    def __init__(self, exchange):
        self._h = None
        h = _c.c_void_p()
        _check(_s_create(exchange._h, _c.byref(h)))
        self._h = h

    def close(self):
        if self._h:
            _s_destroy(self._h)
            self._h = None

    __del__ = close

    def _out(self, call, *args):
        buf, n = _c.c_void_p(), _c.c_size_t()
        _check(call(self._h, *args, _c.byref(buf), _c.byref(n)))
        return _take(buf, n)

    def feed(self, chunk):
        data = _bytes(chunk)
        return self._out(_s_feed, data, len(data))

    def finish(self):
        return self._out(_s_finish)

    def fail(self, http_status=502, message=None):
        return self._out(_s_fail, http_status, message.encode() if message else None)

    @property
    def done(self):
        return bool(_s_done(self._h))

    @property
    def started(self):
        return bool(_s_started(self._h))


class Pool:
    """Gemini keys with live health, shared safely between threads. Times are Unix ms; None
    uses the pool's clock."""

    def __init__(self, keys, policy=None):
        self._h = None
        arr = (_c.c_char_p * max(1, len(keys)))(*[_bytes(k) for k in keys])
        h = _c.c_void_p()
        _check(_p_create(arr, len(keys), json.dumps(policy).encode() if policy else None,
                         _c.byref(h)))
        self._h = h

    def close(self):
        if self._h:
            _p_destroy(self._h)
            self._h = None

    __del__ = close

    def pick(self, model, exclude=(), now_ms=None):
        """→ (key_id, key). Raises NoKey."""
        ex = (_c.c_int64 * max(1, len(exclude)))(*exclude)
        key_id, key, retry = _c.c_int64(), _c.c_char_p(), _c.c_int64()
        st = _p_pick(self._h, model.encode(), ex, len(exclude), -1 if now_ms is None else now_ms,
                     _c.byref(key_id), _c.byref(key), _c.byref(retry))
        if st == NO_KEY:
            raise NoKey(_last_error().decode(), retry.value)
        _check(st)
        return key_id.value, key.value.decode()

    @staticmethod
    def _outcome(o):
        return Outcome(OUTCOME_KINDS[o.kind], o.http_status,
                       None if o.retry_delay_ms < 0 else o.retry_delay_ms, bool(o.outage),
                       o.reason.decode() if o.reason else "")

    def report(self, key_id, model, http_status, body=b"", headers=b"", now_ms=None):
        b, h = _bytes(body), _bytes(headers)
        o = _Outcome()
        _check(_p_report(self._h, key_id, model.encode(), http_status, h, len(h), b, len(b),
                         -1 if now_ms is None else now_ms, _c.byref(o)))
        return self._outcome(o)

    def report_transport_failure(self, key_id, model, connected, now_ms=None):
        o = _Outcome()
        _check(_p_report_tf(self._h, key_id, model.encode(), 1 if connected else 0,
                            -1 if now_ms is None else now_ms, _c.byref(o)))
        return self._outcome(o)

    def health(self):
        buf, n = _c.c_void_p(), _c.c_size_t()
        _check(_p_health(self._h, _c.byref(buf), _c.byref(n)))
        return json.loads(_take(buf, n))
