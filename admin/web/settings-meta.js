// How the settings page presents the live settings: which group each belongs to, and its label
// (English and Chinese) and Chinese description. The English description is the server's own
// (GET /admin/api/settings), the one source of truth for what a setting does; a setting this
// table does not know yet still shows, under "Other", with its name and that description.
// Imports nothing and touches no DOM, so node checks the table (admin-web-helpers.test.mjs).

/** The groups in page order; each lists its settings in order. */
export const SETTING_GROUPS = [
  {id: 'retry', names: ['max_retries', 'max_failures', 'cooldown_default_s', 'cooldown_max_s']},
  {id: 'upstream', names: ['upstream_connect_timeout_ms', 'upstream_first_byte_timeout_ms',
                           'upstream_idle_timeout_ms', 'upstream_total_timeout_ms', 'upstream_proxy',
                           'upstream_headers']},
  {id: 'models', names: ['model_aliases', 'hidden_models']},
  {id: 'openai', names: ['openai_include_reasoning', 'openai_fetch_private_urls',
                         'openai_image_model', 'openai_speech_model',
                         'responses_store_ttl_s', 'responses_fetch_private_urls',
                         'anthropic_fetch_private_urls']},
  {id: 'resources', names: ['affinity_token_isolation', 'affinity_default_ttl_s']},
  {id: 'health', names: ['health_check_model', 'health_check_interval_s', 'health_check_concurrency']},
  {id: 'admin', names: ['admin_token', 'admin_session_ttl_s']},
  {id: 'logs', names: ['log_retention_days', 'log_max_rows']},
];
export const OTHER_GROUP = 'other';

export const GROUP_TITLES = {
  en: {retry: 'Retries and key health', upstream: 'Upstream connection', models: 'Models',
       openai: 'OpenAI and Anthropic fronts', health: 'Key health check', admin: 'Admin access',
       logs: 'Request and error logs', resources: 'Files, caches and other resources',
       other: 'Other'},
  'zh-CN': {retry: '重试与密钥健康', upstream: '上游连接', models: '模型', openai: 'OpenAI 与 Anthropic 接口',
            health: '密钥健康检查', admin: '管理访问', logs: '请求与错误日志',
            resources: '文件、缓存等服务端资源', other: '其他'},
};

/** name → {en: label, zh: label, zh_desc: description}. */
export const SETTING_TEXT = {
  max_retries: {
    en: 'Attempts per request', zh: '每个请求的尝试次数',
    zh_desc: '每个请求最多向上游尝试的次数（每次换一个密钥），只在尚未向客户端发送任何字节时重试。'},
  max_failures: {
    en: 'Failures before the circuit breaker opens', zh: '熔断前允许的连续失败次数',
    zh_desc: '同一密钥对同一模型连续出现临时故障（5xx、超时）达到此次数后打开熔断（1 秒起翻倍至 60 秒，然后试探一次）；从不禁用密钥。0 表示不熔断。'},
  cooldown_default_s: {
    en: 'Quota cooldown (s)', zh: '配额冷却时间（秒）',
    zh_desc: '配额错误（429）且 Google 未给出重试等待时间时，该密钥对该模型的冷却时长；一天内重复出现时翻倍。'},
  cooldown_max_s: {
    en: 'Longest quota cooldown (s)', zh: '最长配额冷却时间（秒）',
    zh_desc: '翻倍增长后的配额冷却时间上限。'},
  upstream_connect_timeout_ms: {
    en: 'Connect timeout (ms)', zh: '连接超时（毫秒）',
    zh_desc: '连接上游（TCP + TLS）的时限。'},
  upstream_first_byte_timeout_ms: {
    en: 'First-byte timeout (ms)', zh: '首字节超时（毫秒）',
    zh_desc: '等待上游响应头的时限。'},
  upstream_idle_timeout_ms: {
    en: 'Idle timeout (ms)', zh: '空闲超时（毫秒）',
    zh_desc: '上游响应中两个数据块之间允许的最长静默时间。'},
  upstream_total_timeout_ms: {
    en: 'Total timeout (ms)', zh: '总超时（毫秒）',
    zh_desc: '一次非流式上游调用的总时限。'},
  upstream_proxy: {
    en: 'Upstream proxy', zh: '上游代理',
    zh_desc: '访问上游所用的代理（http、https 或 socks5 协议的地址）；留空则直连。'},
  upstream_headers: {
    en: 'Extra upstream headers', zh: '附加上游请求头',
    zh_desc: '每次上游调用都附带的请求头，格式为 {"名称": "值"}。'},
  model_aliases: {
    en: 'Model aliases', zh: '模型别名',
    zh_desc: '模型别名：{"别名": "gemini 模型"}。请求别名时转发到对应模型。'},
  hidden_models: {
    en: 'Hidden models', zh: '隐藏的模型',
    zh_desc: '从模型列表中隐藏并以 404 拒绝的模型：["模型", ...]。'},
  openai_include_reasoning: {
    en: 'Return reasoning on OpenAI calls', zh: 'OpenAI 调用返回思考内容',
    zh_desc: '在 OpenAI 聊天调用中向 Gemini 请求思考摘要，并以 reasoning_content 返回。'},
  openai_fetch_private_urls: {
    en: 'Fetch images from private addresses', zh: '允许从内网地址获取图片',
    zh_desc: '允许 OpenAI 聊天调用中的图片 URL 指向本机或内网地址（关闭时网关从不读取自身所在的网络）。'},
  openai_image_model: {
    en: 'Model for OpenAI image calls', zh: 'OpenAI 图像调用使用的模型',
    zh_desc: 'OpenAI 图像生成调用指定 dall-e-* 或 gpt-image-*（或未指定模型）时使用的 Gemini 模型：imagen-* 模型经 :predict 调用，其他模型经 generateContent 调用。'},
  openai_speech_model: {
    en: 'Model for OpenAI speech calls', zh: 'OpenAI 语音合成使用的模型',
    zh_desc: 'OpenAI 语音合成调用指定 tts-1、tts-1-hd 或 gpt-*-tts 时使用的 Gemini TTS 模型。'},
  responses_store_ttl_s: {
    en: 'Stored Responses kept for (s)', zh: 'Responses 存储保留时间（秒）',
    zh_desc: 'OpenAI Responses 接口中 store: true 的响应（含整段对话）保存的时长，过期后删除；previous_response_id 只能引用未过期的响应。'},
  responses_fetch_private_urls: {
    en: 'Responses: fetch media from private addresses', zh: 'Responses：允许从内网地址获取媒体',
    zh_desc: '允许 OpenAI Responses 调用中的图片和文件 URL 指向本机或内网地址。'},
  affinity_token_isolation: {
    en: 'Resources: each token sees only its own', zh: '资源：令牌只能使用自己创建的',
    zh_desc: '开启时，客户端令牌只能使用、列出和删除自己创建的文件、缓存、批处理等资源；其他令牌的资源一律显示为不存在（404）。'},
  affinity_default_ttl_s: {
    en: 'Resource binding kept for (s)', zh: '资源绑定保留时间（秒）',
    zh_desc: '批处理、交互、微调模型和长任务与创建它的密钥绑定的时长（文件固定 48 小时，缓存按其 expireTime）。'},
  anthropic_fetch_private_urls: {
    en: 'Anthropic: fetch media from private addresses', zh: 'Anthropic：允许从内网地址获取媒体',
    zh_desc: '允许 Anthropic Messages 调用中的图片和文档 URL 指向本机或内网地址。'},
  health_check_model: {
    en: 'Health check model', zh: '健康检查模型',
    zh_desc: '健康检查探测密钥时使用的模型。'},
  health_check_interval_s: {
    en: 'Health check interval (s)', zh: '健康检查间隔（秒）',
    zh_desc: '每隔 N 秒运行一次健康检查，使因已消除的原因被禁用的密钥无需外部定时任务即可恢复（0 表示仅在调用定时任务接口时运行）。'},
  health_check_concurrency: {
    en: 'Keys probed at once', zh: '同时探测的密钥数',
    zh_desc: '一次健康检查中同时探测的密钥数量。'},
  admin_token: {
    en: 'Admin token', zh: '管理令牌',
    zh_desc: '管理令牌（只写，仅保存其哈希）。修改后所有管理会话都会结束。'},
  admin_session_ttl_s: {
    en: 'Admin session length (s)', zh: '管理会话有效期（秒）',
    zh_desc: '管理后台浏览器会话的有效时长。'},
  log_retention_days: {
    en: 'Log retention (days)', zh: '日志保留天数',
    zh_desc: '早于此天数的请求日志和错误日志会被删除（0 表示永久保留）。'},
  log_max_rows: {
    en: 'Most request log rows kept', zh: '请求日志最多保留行数',
    zh_desc: '请求日志最多保留的行数，超出时先删除最旧的（0 表示不限）。'},
};

/**
 * Groups `items` (the API's settings, in its order) for the page: [{id, items}] in page order,
 * known settings in their group's order, unknown ones in "other" as the server lists them;
 * empty groups are left out. Pure.
 */
export function groupSettings(items) {
  const byName = new Map(items.map((i) => [i.name, i]));
  const placed = new Set();
  const out = [];
  for (const g of SETTING_GROUPS) {
    const list = g.names.filter((n) => byName.has(n)).map((n) => byName.get(n));
    list.forEach((i) => placed.add(i.name));
    if (list.length) out.push({id: g.id, items: list});
  }
  const rest = items.filter((i) => !placed.has(i.name));
  if (rest.length) out.push({id: OTHER_GROUP, items: rest});
  return out;
}

/**
 * The label and description of a setting in `lang`: the table's, else (unknown setting) its
 * name and the server's description. English descriptions are always the server's. Pure.
 */
export function settingText(item, lang) {
  const m = SETTING_TEXT[item.name];
  const zh = lang === 'zh-CN';
  if (!m) return {label: item.name, description: item.description || ''};
  return {label: zh ? m.zh : m.en, description: zh ? m.zh_desc : item.description || ''};
}

/** A group's title in `lang` (English as the fallback). Pure. */
export function groupTitle(id, lang) {
  return (GROUP_TITLES[lang] || GROUP_TITLES.en)[id] || GROUP_TITLES.en[id] || id;
}
