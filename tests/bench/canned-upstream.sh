# The benchmarks' canned Gemini upstream, shared by compare.sh and hotpath.sh (sourced, POSIX sh):
# an nginx of its own answering every path with one generateContent JSON answer and
# :streamGenerateContent with 20 SSE events (19 words, then the end with usage), so each script
# measures proxies against the same bytes.
#
# write_canned_upstream DIR PORT — writes DIR/nginx.conf for 127.0.0.1:PORT (one worker, keep-alive
# without limit, no access log). The caller starts it: nginx -c DIR/nginx.conf -p DIR.

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
