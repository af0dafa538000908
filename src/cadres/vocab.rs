//! The controlled vocabularies of a cadre profile: English identifiers in the API and the
//! database, simplified-Chinese labels for clients, and the labels (simplified or traditional)
//! that imports accept.

use crate::vocabulary::vocabulary;

vocabulary!(
    /// 性别 (GB/T 2261.1).
    Gender {
        Male = "male", "男";
        Female = "female", "女";
    }
);

vocabulary!(
    /// 政治面貌: the democratic parties, non-party personages, or none.
    Party {
        Rcck = "rcck", "民革" | "民革党员" | "中国国民党革命委员会";
        Cdl = "cdl", "民盟" | "民盟盟员" | "中国民主同盟";
        Cndca = "cndca", "民建" | "民建会员" | "中国民主建国会";
        Capd = "capd", "民进" | "民進" | "民进会员" | "中国民主促进会";
        Cpwdp = "cpwdp", "农工党" | "農工黨" | "中国农工民主党";
        Czgp = "czgp", "致公党" | "致公黨" | "中国致公党";
        Jiusan = "jiusan", "九三学社" | "九三學社";
        Tdsgl = "tdsgl", "台盟" | "臺盟" | "台湾民主自治同盟";
        NonParty = "non_party", "无党派人士" | "無黨派人士";
        None = "none", "无" | "群众";
    }
);

vocabulary!(
    /// 统战工作对象类别; a cadre may be in several.
    Category {
        DemocraticPartyMember = "democratic_party_member", "民主党派成员";
        NonPartyPersonage = "non_party_personage", "无党派人士" | "無黨派人士";
        NonPartyIntellectual = "non_party_intellectual", "党外知识分子" | "黨外知識分子";
        EthnicMinority = "ethnic_minority", "少数民族人士";
        Religious = "religious", "宗教界人士";
        NonPublicEconomy = "non_public_economy", "非公有制经济人士";
        NewSocialStrata = "new_social_strata", "新的社会阶层人士";
        ReturnedOverseasStudent = "returned_overseas_student", "出国和归国留学人员" | "留学人员";
        HongKongMacao = "hong_kong_macao", "香港同胞、澳门同胞" | "港澳同胞";
        Taiwan = "taiwan", "台湾同胞及其在大陆的亲属" | "台胞";
        OverseasChinese = "overseas_chinese", "华侨、归侨及侨眷" | "侨胞";
        Other = "other", "其他";
    }
);

impl Category {
    /// One bit per category, by its position in `ALL` (so `ALL` only ever grows at the end).
    /// `cadres.category_mask` holds a cadre's categories this way, so that the statistics count
    /// them in the same index-only pass as the other dimensions; migration 000007 wrote the
    /// same bits from the tags (a test compares the two).
    pub fn bit(self) -> i32 {
        1 << Category::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }

    pub fn mask_of(categories: &[Category]) -> i32 {
        categories.iter().fold(0, |mask, c| mask | c.bit())
    }

    pub fn in_mask(mask: i32) -> impl Iterator<Item = Category> {
        Category::ALL
            .iter()
            .copied()
            .filter(move |c| mask & c.bit() != 0)
    }
}

vocabulary!(
    /// 管理层级: managed at district or township level.
    Level {
        District = "district", "区级" | "区管";
        Township = "township", "乡镇级" | "乡镇";
    }
);

vocabulary!(
    /// 最高学历.
    Education {
        Graduate = "graduate", "研究生";
        Bachelor = "bachelor", "大学本科" | "本科";
        Associate = "associate", "大学专科" | "专科" | "大专";
        Secondary = "secondary", "中专或高中" | "中专" | "高中";
        Compulsory = "compulsory", "初中及以下";
    }
);

vocabulary!(
    /// 最高学位.
    Degree {
        Doctor = "doctor", "博士";
        Master = "master", "硕士";
        Bachelor = "bachelor", "学士";
        None = "none", "无学位" | "无";
    }
);

vocabulary!(
    /// Whether the cadre is in the working pool or archived (never deleted).
    Status {
        Active = "active", "在库";
        Archived = "archived", "已归档";
    }
);

/// The 56 ethnic groups with their GB/T 3304 codes.
pub const ETHNICITIES: [(&str, &str); 56] = [
    ("01", "汉族"),
    ("02", "蒙古族"),
    ("03", "回族"),
    ("04", "藏族"),
    ("05", "维吾尔族"),
    ("06", "苗族"),
    ("07", "彝族"),
    ("08", "壮族"),
    ("09", "布依族"),
    ("10", "朝鲜族"),
    ("11", "满族"),
    ("12", "侗族"),
    ("13", "瑶族"),
    ("14", "白族"),
    ("15", "土家族"),
    ("16", "哈尼族"),
    ("17", "哈萨克族"),
    ("18", "傣族"),
    ("19", "黎族"),
    ("20", "傈僳族"),
    ("21", "佤族"),
    ("22", "畲族"),
    ("23", "高山族"),
    ("24", "拉祜族"),
    ("25", "水族"),
    ("26", "东乡族"),
    ("27", "纳西族"),
    ("28", "景颇族"),
    ("29", "柯尔克孜族"),
    ("30", "土族"),
    ("31", "达斡尔族"),
    ("32", "仫佬族"),
    ("33", "羌族"),
    ("34", "布朗族"),
    ("35", "撒拉族"),
    ("36", "毛南族"),
    ("37", "仡佬族"),
    ("38", "锡伯族"),
    ("39", "阿昌族"),
    ("40", "普米族"),
    ("41", "塔吉克族"),
    ("42", "怒族"),
    ("43", "乌孜别克族"),
    ("44", "俄罗斯族"),
    ("45", "鄂温克族"),
    ("46", "德昂族"),
    ("47", "保安族"),
    ("48", "裕固族"),
    ("49", "京族"),
    ("50", "塔塔尔族"),
    ("51", "独龙族"),
    ("52", "鄂伦春族"),
    ("53", "赫哲族"),
    ("54", "门巴族"),
    ("55", "珞巴族"),
    ("56", "基诺族"),
];

pub fn ethnicity_label(code: &str) -> Option<&'static str> {
    ETHNICITIES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
}

/// A GB/T 3304 code from a code or a name (with or without 族; traditional forms fold).
pub fn ethnicity_from_text(text: &str) -> Option<&'static str> {
    let text = crate::text::fold(text.trim());
    ETHNICITIES
        .iter()
        .find(|(code, label)| {
            *code == text || *label == text || label.strip_suffix('族') == Some(text.as_str())
        })
        .map(|(code, _)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_bits_are_the_ones_the_migration_wrote() {
        let migration = include_str!("../../migrations/sqlite/2026-11-27-000007_indexes/up.sql");
        for category in Category::ALL {
            let line = format!("WHEN '{}' THEN {}", category.as_str(), category.bit());
            assert!(migration.contains(&line), "{line}");
        }
        assert_eq!(
            include_str!("../../migrations/postgres/2026-11-27-000007_indexes/up.sql")
                .matches(" THEN ")
                .count(),
            Category::ALL.len()
        );
        let mask = Category::mask_of(&[Category::Taiwan, Category::Religious]);
        assert_eq!(
            Category::in_mask(mask).collect::<Vec<_>>(),
            [Category::Religious, Category::Taiwan]
        );
    }

    #[test]
    fn vocabularies_accept_labels_and_traditional_aliases() {
        assert_eq!(Party::from_text("民進"), Some(Party::Capd));
        assert_eq!(Party::from_text("cdl"), Some(Party::Cdl));
        assert_eq!(Gender::from_text("女"), Some(Gender::Female));
        assert_eq!(ethnicity_from_text("土家族"), Some("15"));
        assert_eq!(ethnicity_from_text("土家"), Some("15"));
        assert_eq!(ethnicity_from_text("15"), Some("15"));
        assert_eq!(ethnicity_label("56"), Some("基诺族"));
        assert_eq!(
            ETHNICITIES
                .iter()
                .map(|(c, _)| c)
                .collect::<std::collections::HashSet<_>>()
                .len(),
            56
        );
    }
}
