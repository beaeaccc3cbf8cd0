// DATABASE_URL parsing (see database_url.h for the accepted forms).
#include "storage/database_url.h"

#include <cctype>

#include "core/text.h"
#include "storage/validate.h"

namespace gemgate::storage {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    int hi = i + 1 < s.size() ? hex_value(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) return Error::invalid("DATABASE_URL has a bad %-escape");
    char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') return Error::invalid("DATABASE_URL decodes to a NUL byte");
    out += c;
    i += 2;
  }
  return out;
}

// The part after `file:` / `sqlite:`: an optional empty authority, then a path.
Result<DatabaseUrl> parse_sqlite_rest(std::string_view rest) {
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Error::invalid("DATABASE_URL: query strings and fragments are not supported");
  }
  if (rest.substr(0, 2) == "//") {
    rest.remove_prefix(2);
    auto slash = rest.find('/');
    std::string_view host = rest.substr(0, slash);
    if (!host.empty() && host != "localhost") {
      return Error::invalid("DATABASE_URL: a file URL may not name a host ('" +
                            clip_utf8(host, 64) + "'); write file:/path or file:///path");
    }
    if (slash == std::string_view::npos) return Error::invalid("DATABASE_URL has no file path");
    rest.remove_prefix(slash);
  }
  auto decoded = percent_decode(rest);
  if (!decoded.ok()) return decoded.error();
  if (decoded->empty()) return Error::invalid("DATABASE_URL has no file path");
  return DatabaseUrl{DatabaseKind::kSqlite, std::move(decoded).value(), {}};
}

// True for text that starts like "scheme://".
bool looks_like_url(std::string_view s, std::string* scheme) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  std::size_t i = 1;
  while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '+' ||
                          s[i] == '.' || s[i] == '-')) {
    ++i;
  }
  if (s.substr(i, 3) != "://") return false;
  *scheme = std::string(s.substr(0, i));
  return true;
}

// True for the libpq key=value form: it starts with a connection keyword and '='
// ("host=db dbname=gemgate", "dbname = gemgate"). A SQLite path never starts like that unless
// it is a relative file literally named e.g. "host=x" (write ./host=x for that).
bool looks_like_conninfo(std::string_view s) {
  static constexpr std::string_view kKeywords[] = {"host",
                                                   "hostaddr",
                                                   "port",
                                                   "dbname",
                                                   "user",
                                                   "password",
                                                   "passfile",
                                                   "service",
                                                   "sslmode",
                                                   "connect_timeout",
                                                   "application_name",
                                                   "options",
                                                   "target_session_attrs"};
  std::size_t i = 0;
  while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) ++i;
  std::string_view word = s.substr(0, i);
  while (i < s.size() && s[i] == ' ') ++i;
  if (i >= s.size() || s[i] != '=') return false;
  for (std::string_view k : kKeywords) {
    if (word == k) return true;
  }
  return false;
}

}  // namespace

Result<DatabaseUrl> parse_database_url(std::string_view url) {
  url = trim_ascii(url);
  if (url.empty()) return Error::invalid("DATABASE_URL is empty");
  if (text::istarts_with(url, "postgres://") || text::istarts_with(url, "postgresql://")) {
    // libpq only knows the lowercase schemes.
    std::string conninfo(url);
    for (std::size_t i = 0; conninfo[i] != ':'; ++i) {
      conninfo[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(conninfo[i])));
    }
    return DatabaseUrl{DatabaseKind::kPostgres, {}, std::move(conninfo)};
  }
  if (looks_like_conninfo(url)) return DatabaseUrl{DatabaseKind::kPostgres, {}, std::string(url)};
  for (std::string_view scheme : {"file:", "sqlite:", "sqlite3:"}) {
    if (text::istarts_with(url, scheme)) return parse_sqlite_rest(url.substr(scheme.size()));
  }
  std::string scheme;
  if (looks_like_url(url, &scheme)) {
    return Error::invalid("DATABASE_URL scheme '" + clip_utf8(scheme, 32) +
                          "' is not supported (use file:, sqlite: or a plain path)");
  }
  return DatabaseUrl{DatabaseKind::kSqlite, std::string(url), {}};
}

}  // namespace gemgate::storage
