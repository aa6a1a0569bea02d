"""Problem details in the caller's language: each problem type's ``title`` in English, Simplified and
Traditional Chinese, chosen by ``Accept-Language`` (RFC 9457 section 3.1.3: the title may be localised;
the ``type`` URN and ``code`` never are, so clients still switch on them).

The request's ``Accept-Language`` reaches the problem's builder through a context variable the
conventions middleware sets (``api.http.conventions``), so every place that builds a problem, the
routes, the handlers and the middlewares, answers in the same language without passing it along.
``detail`` stays as the engine wrote it (field paths and values are not translated); a Chinese title
says what kind of problem it is.
"""

from __future__ import annotations

from api.http.languages import choose_language
from api.http.request_context import ACCEPT_LANGUAGE

TITLES_ZH: dict[str, tuple[str, str]] = {
    "bad-input": ("请求不是有效的数据出境请求", "請求不是有效的資料轉移請求"),
    "bad-rule-pack": ("规则包被拒绝", "規則包被拒絕"),
    "bad-option": ("规则包选项无效", "規則包選項無效"),
    "bad-cursor": ("分页游标或分页大小无效", "分頁游標或分頁大小無效"),
    "unauthenticated": ("需要API密钥", "需要API密鑰"),
    "forbidden": ("此密钥的角色无权使用该接口", "此密鑰的角色無權使用該介面"),
    "not-found": ("未找到", "找不到"),
    "method-not-allowed": ("不支持该方法", "不支援該方法"),
    "reference-conflict": ("该编号已用于另一请求", "該編號已用於另一請求"),
    "not-an-amendment": ("变更当事方、数据或目的属于新的出境，不是修订",
                         "變更當事方、資料或目的屬於新的轉移，不是修訂"),
    "transfer-withdrawn": ("该出境已撤回，其决定不再有效", "該轉移已撤回，其決定不再有效"),
    "ambiguous-reference": ("多个出境方使用了该编号，请提供 exporter_id", "多個輸出方使用了該編號，請提供 exporter_id"),
    "too-large": ("请求过大", "請求過大"),
    "unsupported-media-type": ("请求体须为JSON（Content-Type: application/json）",
                               "請求主體須為JSON（Content-Type: application/json）"),
    "idempotency-key-mismatch": ("Idempotency-Key 须与请求的 reference 相同",
                                 "Idempotency-Key 須與請求的 reference 相同"),
    "idempotency-key-not-used": ("该接口不使用 Idempotency-Key", "該介面不使用 Idempotency-Key"),
    "database-unavailable": ("数据库不可用，未写入任何内容", "資料庫不可用，未寫入任何內容"),
    "ledger-error": ("台账出错", "台賬出錯"),
    "ledger-integrity": ("台账完整性：累计数已在服务之外被更改，未作任何决定",
                         "台賬完整性：累計數已在服務之外被更改，未作任何決定"),
    "bad-totals-key": ("累计数密钥文件无法使用", "累計數密鑰檔案無法使用"),
    "ledger-out-of-date": ("台账结构版本早于本版本所读取的版本，请先升级",
                           "台賬結構版本早於本版本所讀取的版本，請先升級"),
    "signing-key-required": ("该台账的审计链已签名，写入需要签名密钥", "該台賬的審計鏈已簽名，寫入需要簽名密鑰"),
    "pack-content-unavailable": ("无法保存规则包以供重放，未记录", "無法保存規則包以供重放，未記錄"),
    "forbidden-client": ("未配置API密钥时仅响应本机", "未配置API密鑰時僅回應本機"),
    "bad-request": ("错误的请求", "錯誤的請求"),
    "internal": ("内部错误", "內部錯誤"),
}


def problem_language() -> str:
    """The language problems of this request are written in: en, zh-Hans or zh-Hant."""
    return choose_language(ACCEPT_LANGUAGE.get())


def localised_title(slug: str, english: str) -> str:
    """The title of problem type ``slug`` in the request's language (English when not translated)."""
    lang = problem_language()
    if lang == "en":
        return english
    titles = TITLES_ZH.get(slug)
    if titles is None:
        return english
    return titles[0] if lang == "zh-Hans" else titles[1]
