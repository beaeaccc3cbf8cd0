# The benchmarks' canned Gemini upstream, shared by compare.sh and hotpath.sh (sourced, POSIX sh):
# an nginx of its own answering every path with one generateContent JSON answer and
# :streamGenerateContent with 20 SSE events (19 words, then the end with usage), so each script
# measures proxies against the same bytes.
#
# write_canned_upstream DIR PORT — writes DIR/nginx.conf for 127.0.0.1:PORT (one worker, keep-alive
# without limit, no access log). The caller starts it: nginx -c DIR/nginx.conf -p DIR.
# write_tls_upstream WORK PORT — the same answers over TLS + HTTP/2 (see below).

CANNED_ANSWER='{"candidates":[{"content":{"parts":[{"text":"Hello! How can I help you today?"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":9,"totalTokenCount":14},"modelVersion":"gemini-2.5-flash"}'

# The 20 events, escaped for an nginx `return "..."` string.
canned_sse() {
  sse=""
  i=0
  while [ $i -lt 19 ]; do
    sse="${sse}data: {\\\"candidates\\\":[{\\\"content\\\":{\\\"parts\\\":[{\\\"text\\\":\\\"word $i \\\"}],\\\"role\\\":\\\"model\\\"},\\\"index\\\":0}],\\\"modelVersion\\\":\\\"gemini-2.5-flash\\\"}\\r\\n\\r\\n"
    i=$((i + 1))
  done
  printf '%s' "${sse}data: {\\\"candidates\\\":[{\\\"content\\\":{\\\"parts\\\":[{\\\"text\\\":\\\"end\\\"}],\\\"role\\\":\\\"model\\\"},\\\"finishReason\\\":\\\"STOP\\\",\\\"index\\\":0}],\\\"usageMetadata\\\":{\\\"promptTokenCount\\\":5,\\\"candidatesTokenCount\\\":20,\\\"totalTokenCount\\\":25},\\\"modelVersion\\\":\\\"gemini-2.5-flash\\\"}\\r\\n\\r\\n"
}

write_canned_upstream() {
  mkdir -p "$1"
  cat > "$1/nginx.conf" <<NGINX
daemon off;
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $1/body;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$2 backlog=4096;
    location ~ :streamGenerateContent { default_type text/event-stream; return 200 "$(canned_sse)"; }
    location / { default_type application/json; return 200 '$CANNED_ANSWER'; }
  }
}
NGINX
}

# write_tls_upstream WORK PORT — the same answers over TLS + HTTP/2 on 127.0.0.1:PORT: a
# self-signed certificate for localhost (WORK/upstream.crt, .key, and .pem for HAProxy), the
# answers as files (WORK/answer.json, WORK/stream.sse) and WORK/up/haproxy.cfg. It is an HAProxy
# of its own because it reads the whole request body before it answers, as Google does (nginx's
# `return` answers from the head and then resets the HTTP/2 stream, which libcurl 7.88 reports as
# a stream error). The caller starts it: haproxy -f WORK/up/haproxy.cfg -db.
write_tls_upstream() {
  mkdir -p "$1/up"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$1/upstream.key" -out "$1/upstream.crt" 2>/dev/null
  cat "$1/upstream.crt" "$1/upstream.key" > "$1/upstream.pem"
  printf '%s' "$CANNED_ANSWER" > "$1/answer.json"
  printf '%b' "$(canned_sse | sed 's/\\"/"/g')" > "$1/stream.sse"
  cat > "$1/up/haproxy.cfg" <<HAP
global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout http-keep-alive 120s
frontend upstream_tls
  bind 127.0.0.1:$2 ssl crt $1/upstream.pem alpn h2,http/1.1
  http-request wait-for-body time 5s
  http-request return status 200 content-type text/event-stream file $1/stream.sse if { path_sub :streamGenerateContent }
  http-request return status 200 content-type application/json file $1/answer.json
HAP
}
