# ruff: noqa: E501  (each notice on one line, as HHS gives it, for checking against the source)
"""Free language help, in the 15 languages most spoken in the US by people with limited
English (Section 1557 of the Affordable Care Act, 45 CFR 92.11: a notice of free language
help in at least 15 languages, reachable from the home page).

Each notice is the sample tagline HHS's Office for Civil Rights published for covered
entities to use, in that language, with the clinic's number for `{phone}` (no TTY number:
the page gives 711 relay). The languages and their order are HHS's nationwide list,
Spanish first. Before a clinic goes live, check each notice against HHS's own file
("Translated Resources for Covered Entities", hhs.gov/civil-rights/for-individuals/
section-1557) and the list against the top 15 of the clinic's own state, which may
differ; this list was checked only against copies of those taglines.
"""

from typing import NamedTuple


class LanguageNotice(NamedTuple):
    code: str  # BCP 47, for lang=""
    english_name: str
    name: str  # in the language itself
    direction: str  # "ltr" or "rtl", for dir=""
    text: str  # with {phone}


NOTICES = [
    LanguageNotice(
        "es",
        "Spanish",
        "Español",
        "ltr",
        "ATENCIÓN: si habla español, tiene a su disposición servicios gratuitos de asistencia lingüística. Llame al {phone}.",
    ),
    LanguageNotice(
        "zh-Hant",
        "Chinese",
        "繁體中文",
        "ltr",
        "注意：如果您使用繁體中文，您可以免費獲得語言援助服務。請致電 {phone}。",
    ),
    LanguageNotice(
        "vi",
        "Vietnamese",
        "Tiếng Việt",
        "ltr",
        "CHÚ Ý: Nếu bạn nói Tiếng Việt, có các dịch vụ hỗ trợ ngôn ngữ miễn phí dành cho bạn. Gọi số {phone}.",
    ),
    LanguageNotice(
        "ko",
        "Korean",
        "한국어",
        "ltr",
        "주의: 한국어를 사용하시는 경우, 언어 지원 서비스를 무료로 이용하실 수 있습니다. {phone} 번으로 전화해 주십시오.",
    ),
    LanguageNotice(
        "tl",
        "Tagalog",
        "Tagalog",
        "ltr",
        "PAUNAWA: Kung nagsasalita ka ng Tagalog, maaari kang gumamit ng mga serbisyo ng tulong sa wika nang walang bayad. Tumawag sa {phone}.",
    ),
    LanguageNotice(
        "ru",
        "Russian",
        "Русский",
        "ltr",
        "ВНИМАНИЕ: Если вы говорите на русском языке, то вам доступны бесплатные услуги перевода. Звоните {phone}.",
    ),
    LanguageNotice(
        "ar",
        "Arabic",
        "العربية",
        "rtl",
        "ملحوظة: إذا كنت تتحدث اللغة العربية، فإن خدمات المساعدة اللغوية تتوافر لك بالمجان. اتصل برقم {phone}.",
    ),
    LanguageNotice(
        "ht",
        "Haitian Creole",
        "Kreyòl Ayisyen",
        "ltr",
        "ATANSYON: Si w pale Kreyòl Ayisyen, gen sèvis èd pou lang ki disponib gratis pou ou. Rele {phone}.",
    ),
    LanguageNotice(
        "fr",
        "French",
        "Français",
        "ltr",
        "ATTENTION : Si vous parlez français, des services d'aide linguistique vous sont proposés gratuitement. Appelez le {phone}.",
    ),
    LanguageNotice(
        "pl",
        "Polish",
        "Polski",
        "ltr",
        "UWAGA: Jeżeli mówisz po polsku, możesz skorzystać z bezpłatnej pomocy językowej. Zadzwoń pod numer {phone}.",
    ),
    LanguageNotice(
        "pt",
        "Portuguese",
        "Português",
        "ltr",
        "ATENÇÃO: Se fala português, encontram-se disponíveis serviços linguísticos, grátis. Ligue para {phone}.",
    ),
    LanguageNotice(
        "it",
        "Italian",
        "Italiano",
        "ltr",
        "ATTENZIONE: In caso la lingua parlata sia l'italiano, sono disponibili servizi di assistenza linguistica gratuiti. Chiamare il numero {phone}.",
    ),
    LanguageNotice(
        "de",
        "German",
        "Deutsch",
        "ltr",
        "ACHTUNG: Wenn Sie Deutsch sprechen, stehen Ihnen kostenlos sprachliche Hilfsdienstleistungen zur Verfügung. Rufnummer: {phone}.",
    ),
    LanguageNotice(
        "ja",
        "Japanese",
        "日本語",
        "ltr",
        "注意事項：日本語を話される場合、無料の言語支援をご利用いただけます。{phone} まで、お電話にてご連絡ください。",
    ),
    LanguageNotice(
        "fa",
        "Persian (Farsi)",
        "فارسی",
        "rtl",
        "توجه: اگر به زبان فارسی گفتگو می کنید، تسهیلات زبانی بصورت رایگان برای شما فراهم می باشد. با {phone} تماس بگیرید.",
    ),
]
