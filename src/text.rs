//! Text as the offices write it: names normalised to NFC, and a search form that treats
//! traditional and simplified characters, full- and half-width forms, and case alike, with the
//! pinyin and pinyin initials of names (so `luowei` and `lw` find 羅維).

use pinyin::ToPinyin;
use unicode_normalization::UnicodeNormalization;

/// The canonical stored form of entered text: NFC, trimmed.
pub fn normalise(text: &str) -> String {
    text.trim().nfc().collect()
}

/// The form both stored search text and queries are reduced to: NFKC (full-width letters and
/// digits become ASCII), traditional characters to simplified, lower case.
pub fn fold(text: &str) -> String {
    let nfkc: String = text.nfkc().collect();
    fast2s::convert(&nfkc).to_lowercase()
}

/// The pinyin of a name without tones or spaces (`罗维` -> `luowei`), characters without pinyin
/// kept as they are (folded).
pub fn pinyin_of(text: &str) -> String {
    fold(text)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '·')
        .map(|c| {
            c.to_pinyin()
                .map_or_else(|| c.to_string(), |p| p.plain().to_owned())
        })
        .collect()
}

/// The initials of a name's pinyin (`罗维` -> `lw`).
pub fn initials_of(text: &str) -> String {
    fold(text)
        .chars()
        .filter_map(|c| c.to_pinyin().map(|p| p.first_letter().to_owned()))
        .collect()
}

/// Escapes `%`, `_` and `\` so that user text is matched literally by `LIKE ... ESCAPE '\'`.
pub fn like_contains(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_simplified_width_and_case_fold_alike() {
        assert_eq!(fold("羅維"), fold("罗维"));
        assert_eq!(fold("ＬＵＯ Wei"), "luo wei");
        assert_eq!(pinyin_of("羅維"), "luowei");
        assert_eq!(initials_of("罗维"), "lw");
        assert_eq!(pinyin_of("阿依古丽·买买提"), "ayigulimaimaiti");
    }

    #[test]
    fn names_are_stored_in_nfc() {
        // "é" as e + combining acute becomes one code point.
        assert_eq!(normalise(" e\u{301} "), "\u{e9}");
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_contains("50%_\\"), "%50\\%\\_\\\\%");
    }
}
