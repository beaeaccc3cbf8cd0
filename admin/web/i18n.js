// English and Simplified Chinese strings of the admin page, the language choice (a saved choice
// first, else the browser's navigator.languages) and applying strings to [data-i18n] elements.
// Only the language code is kept in localStorage, never anything secret. Importing this file
// touches no DOM, so node can check the tables (tests/e2e/admin-web-helpers.test.mjs).

export const LANGS = ['en', 'zh-CN'];
const STORAGE_KEY = 'gemgate.admin.lang';

export const STRINGS = {
  en: {
    'brand.admin': 'admin', 'lang.label': 'Language', 'loading': 'Loading…', 'logout': 'Log out',
    'logout.failed': 'Could not log out: {msg}', 'refresh': 'Refresh', 'auto_refresh': 'Auto refresh',
    'updated_at': 'Updated {time}', 'load_failed': 'Could not load: {msg}',
    'action_failed': 'Action failed: {msg}', 'cancel': 'Cancel', 'close': 'Close', 'confirm': 'Confirm',
    'yes': 'yes', 'no': 'no',
    'nav.dashboard': 'Dashboard', 'nav.keys': 'Keys', 'nav.tokens': 'Client tokens',
    'nav.settings': 'Settings', 'nav.logs': 'Logs',
    'login.title': 'Sign in', 'login.hint': 'Enter the admin token (AUTH_TOKEN) of this gateway.',
    'login.token': 'Admin token', 'login.submit': 'Sign in', 'login.empty': 'Enter the admin token.',
    'login.wrong': 'Wrong admin token.',
    'login.throttled': 'Too many failed attempts. Try again in {s} s.',
    'login.failed': 'Sign-in failed: {msg}',
    'status.active': 'Active', 'status.cooling': 'Cooling', 'status.disabled': 'Disabled',
    'window.1m': 'Last minute', 'window.1h': 'Last hour', 'window.24h': 'Last 24 hours',
    'window.30d': 'Last 30 days',
    'dash.keys': 'Keys', 'dash.keys_total': 'All keys', 'dash.traffic': 'Traffic',
    'dash.charts': 'Over time', 'dash.chart_requests': 'Requests', 'dash.chart_tokens': 'Tokens',
    'dash.succeeded': 'Succeeded', 'dash.failures': 'Failed', 'dash.top_keys': 'Top keys',
    'dash.top_models': 'Models', 'dash.no_traffic': 'No requests in this window.',
    'dash.show_logs': 'Show its logs', 'dash.by_requests': 'Most requests',
    'dash.by_failures': 'Most failures', 'dash.no_failures': 'No failures in this window.',
    'col.id': 'ID', 'col.key': 'Key', 'col.key_id': 'Key ID', 'col.status': 'Status',
    'col.reason': 'Reason / last error', 'col.failures': 'Failures', 'col.failures_now': 'Failures',
    'col.requests': 'Requests', 'col.tokens': 'Tokens', 'col.calls_24h': 'Calls 24 h',
    'col.tokens_24h': 'Tokens 24 h', 'col.last_used': 'Last used', 'col.last_checked': 'Last checked',
    'col.actions': 'Actions', 'col.model': 'Model', 'col.label': 'Label', 'col.token': 'Token',
    'col.created': 'Created', 'col.time': 'Time', 'col.method': 'Method', 'col.path': 'Path',
    'col.token_id': 'Token', 'col.latency': 'Latency', 'col.attempts': 'Attempts',
    'col.stream': 'Stream', 'col.error': 'Error', 'col.kind': 'Kind', 'col.route': 'Route',
    'col.message': 'Message',
    'action.verify': 'Verify', 'action.reset': 'Reset', 'action.enable': 'Enable',
    'action.disable': 'Disable', 'action.delete': 'Delete',
    'keys.add': 'Add keys', 'keys.search': 'Search by key ID or part of the key',
    'keys.tab_all': 'All', 'keys.select_page': 'Select all on this page',
    'keys.select_row': 'Select key #{id}', 'keys.n_selected': '{n} selected',
    'keys.all_matching_selected': 'All {n} matching keys selected',
    'keys.select_all_matching': 'Select all {n} matching keys',
    'keys.clear_selection': 'Clear selection',
    'keys.none': 'No keys yet. Add some with “Add keys”.', 'keys.none_match': 'No keys match.',
    'keys.delete_title': 'Delete key', 'keys.delete_one': 'Delete key {key} (#{id})? This cannot be undone.',
    'keys.deleted': 'Key #{id} deleted.', 'keys.verify_ok': 'Key #{id} works.',
    'keys.verify_failed': 'Key #{id} failed: {reason}', 'keys.done_reset': 'Key #{id} reset.',
    'keys.done_enable': 'Key #{id} enabled.', 'keys.done_disable': 'Key #{id} disabled.',
    'keys.bulk_confirm_delete': 'Delete {n} keys? This cannot be undone.',
    'keys.bulk_confirm_disable': 'Disable {n} keys? They will not be used until enabled again.',
    'add.title': 'Add keys', 'add.label': 'Keys to add',
    'add.hint': 'Paste Gemini API keys separated by new lines, spaces, commas or semicolons. Keys already in the pool are skipped. One key per line may carry options: key,weight=2,group=paid,rpm=60,tpm=100000,proxy=socks5h://host:1080,note=text',
    'add.placeholder': 'AIza…', 'add.detected': '{n} keys detected', 'add.submit': 'Add',
    'add.empty': 'Paste at least one key.', 'add.added': 'Added', 'add.duplicates': 'Duplicates',
    'add.rejected': 'Rejected', 'add.line': 'Item {n}:', 'add.more': 'Add more',
    'add.error': 'Stopped by an error: {msg}. {n} keys were not sent.',
    'bulk.title': 'Bulk action: {action}', 'bulk.starting': 'Starting…',
    'bulk.collecting': 'Collecting the matching keys…', 'bulk.collected': 'Collected {n} of {total} keys…',
    'bulk.progress': '{done} of {total} done — {ok} succeeded, {bad} failed',
    'bulk.stop': 'Stop', 'bulk.stopping': 'Stopping after the current batch…',
    'bulk.stopped': 'Stopped.', 'bulk.done': 'Done.', 'bulk.error': 'Stopped by an error: {msg}',
    'bulk.succeeded': 'Succeeded', 'bulk.failed': 'Failed', 'bulk.not_run': 'Not run',
    'bulk.more': '… and {n} more',
    'tokens.new': 'New client token',
    'tokens.hint': 'Clients send this token instead of a Gemini key. It is shown once, right after creation.',
    'tokens.label_ph': 'e.g. team-a laptop', 'tokens.custom': 'Token (optional)',
    'tokens.custom_ph': 'Leave empty to generate one', 'tokens.create': 'Create token',
    'tokens.none': 'No client tokens.', 'tokens.delete_title': 'Delete client token',
    'tokens.delete_confirm': 'Delete the token “{label}”? Clients using it will be refused.',
    'tokens.deleted': 'Token deleted.', 'tokens.created_title': 'Client token created',
    'tokens.once_warning': 'Copy this token now. It will not be shown again.',
    'tokens.created_for': 'Label: {label} · shown later as {masked}', 'tokens.copy': 'Copy',
    'tokens.copied': 'Copied to the clipboard.', 'tokens.copy_manual': 'Press Ctrl+C to copy.',
    'tokens.done': 'I have copied it',
    'tokens.col_policy': 'Policy', 'tokens.col_usage': 'Usage', 'tokens.edit': 'Edit',
    'tokens.edit_title': 'Edit client token “{label}”', 'tokens.save': 'Save',
    'tokens.saved': 'Token saved.', 'tokens.no_limit': 'no limit',
    'tokens.all_models': 'every model', 'tokens.all_keys': 'every key',
    'tokens.f_models': 'Allowed models', 'tokens.h_models': 'Names or patterns with *, separated by commas; empty = every model.',
    'tokens.f_rpm': 'Requests per minute', 'tokens.f_tpm': 'Tokens per minute',
    'tokens.f_daily': 'Tokens per day', 'tokens.f_monthly': 'Tokens per month',
    'tokens.h_utc': 'Days and months are UTC. Empty or 0 = no limit.',
    'tokens.f_expires': 'Expires at', 'tokens.h_expires': 'Empty = never.',
    'tokens.f_group': 'Key group', 'tokens.f_enabled': 'Enabled',
    'tokens.bad_limit': 'Enter a whole number of 0 or more.',
    'tokens.disabled': 'disabled', 'tokens.expired': 'expired',
    'tokens.u_minute_req': 'Requests / min', 'tokens.u_minute_tok': 'Tokens / min',
    'tokens.u_today': 'Tokens today', 'tokens.u_month': 'Tokens this month',
    'settings.intro': 'Changes take effect at once on every worker and are kept in the database.',
    'settings.save': 'Save changes', 'settings.discard': 'Discard', 'settings.saved': 'Settings saved.',
    'settings.save_failed': 'Not saved: {msg}', 'settings.n_changes': 'Unsaved changes: {n}',
    'settings.no_changes': 'No unsaved changes', 'settings.fix_errors': 'Fix the marked fields first',
    'settings.default': 'Default: {v}', 'settings.range': 'Allowed: {min} – {max}',
    'settings.min': 'At least {min}', 'settings.max': 'At most {max}',
    'settings.reset': 'Reset to default', 'settings.clear_secret': 'Unset',
    'settings.overridden': 'changed', 'settings.will_reset': 'resets on save',
    'settings.set': 'set', 'settings.unset': 'not set',
    'settings.secret_hint': 'Write-only: the current value is never shown',
    'settings.secret_replace': 'Type a new value to replace it', 'settings.secret_enter': 'Type a value to set it',
    'settings.empty': '(empty)', 'settings.confirm_title': 'Change a secret setting',
    'settings.confirm_admin_token': 'Changing the admin token signs out every admin session, this one included. Sign in again with the new token afterwards.',
    'settings.confirm_secret': 'Change the write-only setting(s) {names}? The current value cannot be shown or restored.',
    'settings.bad_int': 'Enter a whole number.', 'settings.bad_json': 'Not valid JSON: {detail}',
    'logs.kind_request': 'Request log', 'logs.kind_error': 'Error log', 'logs.time': 'Time',
    'logs.range_any': 'Any time', 'logs.range_1h': 'Last hour', 'logs.range_24h': 'Last 24 hours',
    'logs.range_7d': 'Last 7 days', 'logs.range_custom': 'Custom…', 'logs.from': 'From', 'logs.to': 'To',
    'logs.key_ph': 'e.g. 12', 'logs.model_ph': 'e.g. gemini-2.5-flash', 'logs.status_ph': '429 or 4xx',
    'logs.apply': 'Apply', 'logs.clear_filters': 'Clear filters',
    'logs.bad_key': 'The key ID is a number.', 'logs.bad_status': 'Status is a code (429) or a class (4xx).',
    'logs.bad_range': '“From” must be before “To”.', 'logs.none': 'No log entries match.',
    'logs.total': '{n} entries', 'logs.details': 'Details', 'logs.details_title': 'Log entry #{id}',
    'logs.prompt': 'Prompt', 'logs.completion': 'Completion',
    'logs.delete_selected': 'Delete selected', 'logs.delete_filtered': 'Delete matching',
    'logs.clear_all': 'Clear all', 'logs.delete_selected_title': 'Delete selected entries',
    'logs.delete_filter_title': 'Delete matching entries', 'logs.delete_all_title': 'Clear the log',
    'logs.confirm_selected': 'Delete {n} selected entries of the {kind}?',
    'logs.confirm_filter': 'Delete all {n} entries of the {kind} that match the filters?',
    'logs.confirm_all': 'Delete every entry of the {kind}? This cannot be undone.',
    'logs.deleted': '{n} entries deleted.',
    'logs.key_failures': 'Failed attempts of key #{id}: {n}',
    'logs.failed_keys': 'failed: {ids}',
    'logs.key_failures_all': 'Show them in the error log',
    'logs.key_no_failures': 'No failed attempts of this key in this time range.',
    'keys.cooldown_quota': '{model}: out of quota until {time} ({rel})',
    'keys.cooldown_circuit': '{model}: circuit open until {time} ({rel})',
    'keys.cooldown_all_models': 'all models',
    'col.policy': 'Policy', 'col.last_minute': 'Last minute', 'action.edit': 'Edit',
    'keyedit.title': 'Key {key} (#{id})', 'keyedit.save': 'Save', 'keyedit.saved': 'Key #{id} saved.',
    'keyedit.weight': 'Weight', 'keyedit.weight_hint': '1–100: its share of the traffic relative to the other keys.',
    'keyedit.group': 'Group', 'keyedit.group_hint': 'Tokens with this key group use only its keys; empty = the default group.',
    'keyedit.rpm': 'Requests per minute', 'keyedit.rpm_hint': 'This key’s own limit; 0 = none. At its limit it is skipped, not penalised.',
    'keyedit.tpm': 'Tokens per minute', 'keyedit.tpm_hint': 'Counted from the answers’ usage; 0 = none.',
    'keyedit.proxy': 'Proxy', 'keyedit.proxy_hint': 'A proxy URL (scheme http, https, socks5 or socks5h); empty = the global upstream proxy. The password stays hidden.',
    'keyedit.note': 'Note', 'keyedit.note_hint': 'Free text for operators.',
    'keyedit.via_proxy': 'own proxy', 'keyedit.req': 'req', 'keyedit.tok': 'tok',
    'pager.prev': 'Previous', 'pager.page_label': 'Page number', 'pager.next': 'Next', 'pager.page': 'Page', 'pager.of': 'of {pages}',
    'pager.size': 'Rows per page', 'pager.per_page': '{n} / page',
    'pager.range': '{first}–{last} of {total}',
  },
  'zh-CN': {
    'brand.admin': '管理后台', 'lang.label': '语言', 'loading': '加载中…', 'logout': '退出登录',
    'logout.failed': '退出失败：{msg}', 'refresh': '刷新', 'auto_refresh': '自动刷新',
    'updated_at': '更新于 {time}', 'load_failed': '加载失败：{msg}',
    'action_failed': '操作失败：{msg}', 'cancel': '取消', 'close': '关闭', 'confirm': '确认',
    'yes': '是', 'no': '否',
    'nav.dashboard': '概览', 'nav.keys': '密钥', 'nav.tokens': '客户端令牌',
    'nav.settings': '设置', 'nav.logs': '日志',
    'login.title': '登录', 'login.hint': '请输入本网关的管理令牌（AUTH_TOKEN）。',
    'login.token': '管理令牌', 'login.submit': '登录', 'login.empty': '请输入管理令牌。',
    'login.wrong': '管理令牌错误。',
    'login.throttled': '失败次数过多，请 {s} 秒后再试。',
    'login.failed': '登录失败：{msg}',
    'status.active': '可用', 'status.cooling': '冷却中', 'status.disabled': '已禁用',
    'window.1m': '最近 1 分钟', 'window.1h': '最近 1 小时', 'window.24h': '最近 24 小时',
    'window.30d': '最近 30 天',
    'dash.keys': '密钥', 'dash.keys_total': '全部密钥', 'dash.traffic': '调用量',
    'dash.charts': '趋势', 'dash.chart_requests': '请求数', 'dash.chart_tokens': '令牌用量（Tokens）',
    'dash.succeeded': '成功', 'dash.failures': '失败', 'dash.top_keys': '密钥排行',
    'dash.top_models': '模型', 'dash.no_traffic': '该时间段内没有请求。',
    'dash.show_logs': '查看其日志', 'dash.by_requests': '请求最多',
    'dash.by_failures': '失败最多', 'dash.no_failures': '该时间段内没有失败。',
    'col.id': '编号', 'col.key': '密钥', 'col.key_id': '密钥编号', 'col.status': '状态',
    'col.reason': '原因 / 最近错误', 'col.failures': '失败数', 'col.failures_now': '连续失败',
    'col.requests': '请求数', 'col.tokens': 'Tokens', 'col.calls_24h': '24 小时调用',
    'col.tokens_24h': '24 小时 Tokens', 'col.last_used': '最近使用', 'col.last_checked': '最近检测',
    'col.actions': '操作', 'col.model': '模型', 'col.label': '备注名', 'col.token': '令牌',
    'col.created': '创建时间', 'col.time': '时间', 'col.method': '方法', 'col.path': '路径',
    'col.token_id': '令牌', 'col.latency': '耗时', 'col.attempts': '尝试次数',
    'col.stream': '流式', 'col.error': '错误', 'col.kind': '类型', 'col.route': '路由',
    'col.message': '信息',
    'action.verify': '检测', 'action.reset': '重置', 'action.enable': '启用',
    'action.disable': '禁用', 'action.delete': '删除',
    'keys.add': '添加密钥', 'keys.search': '按密钥编号或密钥片段搜索',
    'keys.tab_all': '全部', 'keys.select_page': '全选本页',
    'keys.select_row': '选择密钥 #{id}', 'keys.n_selected': '已选 {n} 项',
    'keys.all_matching_selected': '已选中全部 {n} 个匹配的密钥',
    'keys.select_all_matching': '选择全部 {n} 个匹配的密钥',
    'keys.clear_selection': '取消选择',
    'keys.none': '还没有密钥，请点击“添加密钥”。', 'keys.none_match': '没有匹配的密钥。',
    'keys.delete_title': '删除密钥', 'keys.delete_one': '确定删除密钥 {key}（#{id}）吗？此操作无法撤销。',
    'keys.deleted': '密钥 #{id} 已删除。', 'keys.verify_ok': '密钥 #{id} 可用。',
    'keys.verify_failed': '密钥 #{id} 检测失败：{reason}', 'keys.done_reset': '密钥 #{id} 已重置。',
    'keys.done_enable': '密钥 #{id} 已启用。', 'keys.done_disable': '密钥 #{id} 已禁用。',
    'keys.bulk_confirm_delete': '确定删除 {n} 个密钥吗？此操作无法撤销。',
    'keys.bulk_confirm_disable': '确定禁用 {n} 个密钥吗？重新启用之前不会再使用它们。',
    'add.title': '添加密钥', 'add.label': '要添加的密钥',
    'add.hint': '粘贴 Gemini API 密钥，可用换行、空格、逗号或分号分隔。已在密钥池中的密钥会被跳过。每行一个密钥时可带选项：key,weight=2,group=paid,rpm=60,tpm=100000,proxy=socks5h://host:1080,note=说明',
    'add.placeholder': 'AIza…', 'add.detected': '识别到 {n} 个密钥', 'add.submit': '添加',
    'add.empty': '请至少粘贴一个密钥。', 'add.added': '已添加', 'add.duplicates': '重复',
    'add.rejected': '已拒绝', 'add.line': '第 {n} 项：', 'add.more': '继续添加',
    'add.error': '因错误中止：{msg}。有 {n} 个密钥未提交。',
    'bulk.title': '批量操作：{action}', 'bulk.starting': '正在开始…',
    'bulk.collecting': '正在收集匹配的密钥…', 'bulk.collected': '已收集 {n} / {total} 个密钥…',
    'bulk.progress': '已完成 {done} / {total}：成功 {ok}，失败 {bad}',
    'bulk.stop': '停止', 'bulk.stopping': '当前批次完成后停止…',
    'bulk.stopped': '已停止。', 'bulk.done': '已完成。', 'bulk.error': '因错误中止：{msg}',
    'bulk.succeeded': '成功', 'bulk.failed': '失败', 'bulk.not_run': '未执行',
    'bulk.more': '……另有 {n} 项',
    'tokens.new': '新建客户端令牌',
    'tokens.hint': '客户端用此令牌代替 Gemini 密钥访问网关。令牌只在创建后显示一次。',
    'tokens.label_ph': '例如：A 组笔记本', 'tokens.custom': '令牌（可选）',
    'tokens.custom_ph': '留空则自动生成', 'tokens.create': '创建令牌',
    'tokens.none': '还没有客户端令牌。', 'tokens.delete_title': '删除客户端令牌',
    'tokens.delete_confirm': '确定删除令牌“{label}”吗？使用它的客户端将被拒绝。',
    'tokens.deleted': '令牌已删除。', 'tokens.created_title': '客户端令牌已创建',
    'tokens.once_warning': '请立即复制此令牌，关闭后将不再显示。',
    'tokens.created_for': '备注名：{label} · 之后显示为 {masked}', 'tokens.copy': '复制',
    'tokens.copied': '已复制到剪贴板。', 'tokens.copy_manual': '请按 Ctrl+C 复制。',
    'tokens.done': '我已复制',
    'tokens.col_policy': '策略', 'tokens.col_usage': '用量', 'tokens.edit': '编辑',
    'tokens.edit_title': '编辑客户端令牌“{label}”', 'tokens.save': '保存',
    'tokens.saved': '令牌已保存。', 'tokens.no_limit': '不限',
    'tokens.all_models': '全部模型', 'tokens.all_keys': '全部密钥',
    'tokens.f_models': '允许的模型', 'tokens.h_models': '模型名或带 * 的通配，用逗号分隔；留空表示全部模型。',
    'tokens.f_rpm': '每分钟请求数', 'tokens.f_tpm': '每分钟令牌用量',
    'tokens.f_daily': '每日令牌用量', 'tokens.f_monthly': '每月令牌用量',
    'tokens.h_utc': '按 UTC 日和月计算。留空或 0 表示不限。',
    'tokens.f_expires': '过期时间', 'tokens.h_expires': '留空表示永不过期。',
    'tokens.f_group': '密钥分组', 'tokens.f_enabled': '启用',
    'tokens.bad_limit': '请输入不小于 0 的整数。',
    'tokens.disabled': '已停用', 'tokens.expired': '已过期',
    'tokens.u_minute_req': '每分钟请求', 'tokens.u_minute_tok': '每分钟用量',
    'tokens.u_today': '今日用量', 'tokens.u_month': '本月用量',
    'settings.intro': '修改立即在所有工作线程生效，并保存在数据库中。',
    'settings.save': '保存修改', 'settings.discard': '放弃修改', 'settings.saved': '设置已保存。',
    'settings.save_failed': '保存失败：{msg}', 'settings.n_changes': '{n} 项未保存的修改',
    'settings.no_changes': '没有未保存的修改', 'settings.fix_errors': '请先修正标出的字段',
    'settings.default': '默认值：{v}', 'settings.range': '允许范围：{min} – {max}',
    'settings.min': '至少 {min}', 'settings.max': '最多 {max}',
    'settings.reset': '恢复默认', 'settings.clear_secret': '清除',
    'settings.overridden': '已修改', 'settings.will_reset': '保存后恢复默认',
    'settings.set': '已设置', 'settings.unset': '未设置',
    'settings.secret_hint': '只写字段：当前值永不显示',
    'settings.secret_replace': '输入新值以替换', 'settings.secret_enter': '输入值以设置',
    'settings.empty': '（空）', 'settings.confirm_title': '修改保密设置',
    'settings.confirm_admin_token': '修改管理令牌会使所有管理会话（包括当前会话）退出登录，之后请用新令牌重新登录。',
    'settings.confirm_secret': '确定修改只写设置 {names} 吗？当前值无法显示或恢复。',
    'settings.bad_int': '请输入整数。', 'settings.bad_json': 'JSON 格式错误：{detail}',
    'logs.kind_request': '请求日志', 'logs.kind_error': '错误日志', 'logs.time': '时间',
    'logs.range_any': '全部时间', 'logs.range_1h': '最近 1 小时', 'logs.range_24h': '最近 24 小时',
    'logs.range_7d': '最近 7 天', 'logs.range_custom': '自定义…', 'logs.from': '开始', 'logs.to': '结束',
    'logs.key_ph': '例如 12', 'logs.model_ph': '例如 gemini-2.5-flash', 'logs.status_ph': '429 或 4xx',
    'logs.apply': '筛选', 'logs.clear_filters': '清除筛选',
    'logs.bad_key': '密钥编号必须是数字。', 'logs.bad_status': '状态码应为具体代码（429）或类别（4xx）。',
    'logs.bad_range': '“开始”必须早于“结束”。', 'logs.none': '没有匹配的日志。',
    'logs.total': '共 {n} 条', 'logs.details': '详情', 'logs.details_title': '日志 #{id}',
    'logs.prompt': '输入', 'logs.completion': '输出',
    'logs.delete_selected': '删除所选', 'logs.delete_filtered': '删除筛选结果',
    'logs.clear_all': '全部清空', 'logs.delete_selected_title': '删除所选日志',
    'logs.delete_filter_title': '删除筛选结果', 'logs.delete_all_title': '清空日志',
    'logs.confirm_selected': '确定删除{kind}中所选的 {n} 条记录吗？',
    'logs.confirm_filter': '确定删除{kind}中符合筛选条件的全部 {n} 条记录吗？',
    'logs.confirm_all': '确定删除{kind}中的所有记录吗？此操作无法撤销。',
    'logs.deleted': '已删除 {n} 条记录。',
    'logs.key_failures': '密钥 #{id} 的失败尝试：{n} 次',
    'logs.failed_keys': '失败：{ids}',
    'logs.key_failures_all': '在错误日志中查看',
    'logs.key_no_failures': '该时间段内此密钥没有失败的尝试。',
    'keys.cooldown_quota': '{model}：配额用尽，冷却至 {time}（{rel}）',
    'keys.cooldown_circuit': '{model}：已熔断，至 {time}（{rel}）',
    'keys.cooldown_all_models': '全部模型',
    'col.policy': '策略', 'col.last_minute': '最近一分钟', 'action.edit': '编辑',
    'keyedit.title': '密钥 {key}（#{id}）', 'keyedit.save': '保存', 'keyedit.saved': '密钥 #{id} 已保存。',
    'keyedit.weight': '权重', 'keyedit.weight_hint': '1–100：相对于其他密钥分得的流量份额。',
    'keyedit.group': '分组', 'keyedit.group_hint': '指定了此密钥分组的令牌只使用该组的密钥；留空为默认分组。',
    'keyedit.rpm': '每分钟请求数', 'keyedit.rpm_hint': '此密钥自身的限额；0 为不限。达到限额时会被跳过，不会受罚。',
    'keyedit.tpm': '每分钟 Tokens 数', 'keyedit.tpm_hint': '按回答中的用量计算；0 为不限。',
    'keyedit.proxy': '代理', 'keyedit.proxy_hint': '代理地址（协议为 http、https、socks5 或 socks5h）；留空则使用全局上游代理。密码不会显示。',
    'keyedit.note': '备注', 'keyedit.note_hint': '给运维人员看的说明文字。',
    'keyedit.via_proxy': '独立代理', 'keyedit.req': '次请求', 'keyedit.tok': '个 Token',
    'pager.prev': '上一页', 'pager.page_label': '页码', 'pager.next': '下一页', 'pager.page': '第', 'pager.of': '页，共 {pages} 页',
    'pager.size': '每页行数', 'pager.per_page': '每页 {n} 条',
    'pager.range': '第 {first}–{last} 条，共 {total} 条',
  },
};

/**
 * The language to use: a saved choice if it is supported, else the first of the browser's
 * languages we have (any "zh…" → zh-CN, any "en…" → en), else English. Pure.
 */
export function pickLanguage(saved, browserLangs = []) {
  if (LANGS.includes(saved)) return saved;
  for (const l of browserLangs || []) {
    const low = String(l).toLowerCase();
    if (low.startsWith('zh')) return 'zh-CN';
    if (low.startsWith('en')) return 'en';
  }
  return 'en';
}

let current = null;

function readSaved() {
  try { return window.localStorage.getItem(STORAGE_KEY); } catch { return null; }
}

/** The language in use (decided on first call). */
export function lang() {
  if (!current) {
    const nav = typeof navigator === 'undefined' ? []
        : (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language]);
    current = pickLanguage(typeof window === 'undefined' ? null : readSaved(), nav);
  }
  return current;
}

/** Switches language and remembers the choice. */
export function setLang(l) {
  if (!LANGS.includes(l)) return;
  current = l;
  try { window.localStorage.setItem(STORAGE_KEY, l); } catch { /* private mode: not remembered */ }
}

/** The string for key in the current language (English, then the key, as fallbacks). */
export function t(key, params = {}, language = lang()) {
  const s = STRINGS[language]?.[key] ?? STRINGS.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, name) => (params[name] === undefined ? m : String(params[name])));
}

/**
 * Fills [data-i18n] (text), [data-i18n-placeholder], [data-i18n-title] and
 * [data-i18n-aria-label] under root, and sets <html lang>.
 */
export function applyI18n(root) {
  document.documentElement.lang = lang();
  for (const e of root.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const e of root.querySelectorAll('[data-i18n-placeholder]')) e.placeholder = t(e.dataset.i18nPlaceholder);
  for (const e of root.querySelectorAll('[data-i18n-title]')) e.title = t(e.dataset.i18nTitle);
  for (const e of root.querySelectorAll('[data-i18n-aria-label]')) {
    e.setAttribute('aria-label', t(e.dataset.i18nAriaLabel));
  }
}

/** Sets up a <select> of languages; onChange runs after a switch. */
export function initLangSelect(select, onChange) {
  if (!select) return;
  select.value = lang();
  select.addEventListener('change', () => {
    setLang(select.value);
    onChange();
  });
}
