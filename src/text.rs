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

/// Placed after every character of the stored search text and of queries. Both engines index
/// search text by trigrams (pg_trgm on PostgreSQL, FTS5's trigram tokenizer on SQLite), which
/// cannot serve a two-character query, and most Chinese names are two or three characters; marked,
/// a two-character query is four characters long and the index serves it. Substring matches are
/// the same as on unmarked text because the mark is first removed from the text itself. A letter,
/// because pg_trgm indexes only letters and digits, and one that names and units do not use.
pub const SEARCH_MARK: char = 'ǂ';

/// The stored and queried form of folded search text: whitespace becomes one space, and every
/// other character is followed by `SEARCH_MARK`.
pub fn mark_for_search(folded: &str) -> String {
    let mut marked = String::with_capacity(folded.len() * 2);
    for c in folded.chars().filter(|c| *c != SEARCH_MARK) {
        if c.is_whitespace() {
            marked.push(' ');
        } else {
            marked.push(c);
            marked.push(SEARCH_MARK);
        }
    }
    marked
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
    fn marking_keeps_substring_matches_exact() {
        assert_eq!(mark_for_search("王芳 wf"), "王ǂ芳ǂ wǂfǂ");
        let text = mark_for_search("区财政局 wangfang ǂx");
        let cases = [
            ("财政", true),
            ("ang", true),
            ("局 w", true),
            ("g x", true),
            ("g w", false),
            ("政区", false),
        ];
        for (query, found) in cases {
            assert_eq!(text.contains(&mark_for_search(query)), found, "{query}");
        }
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_contains("50%_\\"), "%50\\%\\_\\\\%");
    }
}
