// POST /admin/api/reload: re-reads the configuration file, as SIGHUP does, and answers what
// happened: {"ok":bool,"errors":[{"file","line","column","message"}],"restart_required":[...]}
// with 200 when the new configuration is in force, 422 when it was refused (the old one keeps
// running).
#include "admin/api.h"
#include "core/log.h"

namespace gemgate::admin {

namespace {

std::string report_json(const ReloadReport& report) {
  JsonOut out;
  out.begin_object();
  out.key("ok").boolean(report.ok);
  out.key("errors").begin_array();
  for (const ConfigError& e : report.errors) {
    out.begin_object();
    out.key("file").str(e.at.file);
    out.key("line").num(e.at.line);
    out.key("column").num(e.at.column);
    // A value from the environment may be a secret; the redactor knows the registered ones.
    out.key("message").str(log::redact(e.message));
    out.end_object();
  }
  out.end_array();
  out.key("restart_required").begin_array();
  for (const std::string& what : report.restart_required) out.str(what);
  out.end_array();
  out.end_object();
  return out.take();
}

}  // namespace

void handle_reload(ApiCall& call) {
  if (!call.s.reload) {
    send_error(call.x, 501, "this gateway cannot reload its configuration");
    return;
  }
  TerminalRef ref = call.x.terminal_ref();
  call.s.reload([ref](ReloadReport report) {
    Reply reply = Reply::json(report_json(report), report.ok ? 200 : 422);
    ref.post([reply = std::move(reply)](TerminalCallbacks& x) mutable {
      send_reply(x, std::move(reply));
    });
  });
}

}  // namespace gemgate::admin
