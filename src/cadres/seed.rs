//! Plausible synthetic cadres for trying the system and for benchmarks: Chinese names, valid ID
//! numbers, every party and category, the district with townships and departments. Generated
//! from a fixed seed, so the same count gives the same data.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::identity::check_char;
use super::profile::Profile;
use super::service::{self, NewCadre};
use super::tallies;
use super::vocab::{Category, Degree, Education, Gender, Level, Party};
use crate::accounts;
use crate::accounts::dto::{CreateUnitRequest, UnitKind, UnitQuery};
use crate::audit::{self, Actor, Event};
use crate::crypto::DataKey;
use crate::db::{self, DbConn};
use crate::error::ApiError;

const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤冉";
const GIVEN: &str = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力鹏飞斌宇浩凯俊峰琳晶雪婷倩颖欣悦思雨晨阳天佳嘉瑞鑫博文轩梓涵子墨若曦维";
const TOWNSHIPS: [&str; 12] = [
    "仙女山街道",
    "芙蓉街道",
    "羊角街道",
    "白马镇",
    "江口镇",
    "火炉镇",
    "鸭江镇",
    "长坝镇",
    "桐梓镇",
    "平桥镇",
    "土坎镇",
    "和顺镇",
];
const DEPARTMENTS: [&str; 8] = [
    "区交通局",
    "区水利局",
    "区住房城乡建委",
    "区教委",
    "区卫生健康委",
    "区农业农村委",
    "区文化旅游委",
    "区经济信息委",
];
const SECTORS: [&str; 12] = [
    "乡村振兴",
    "文化旅游",
    "生态环保",
    "交通运输",
    "水利",
    "城乡建设",
    "教育",
    "医疗卫生",
    "民营经济",
    "农业",
    "科技创新",
    "法律",
];
const EXPERTISE: [&str; 10] = [
    "旅游规划",
    "中医药",
    "会计审计",
    "土木工程",
    "农产品电商",
    "法律服务",
    "基础教育",
    "生态修复",
    "金融",
    "非遗保护",
];
const WORKPLACES: [&str; 8] = [
    "武隆区人民医院",
    "武隆中学",
    "仙女山旅游公司",
    "武隆区农业技术推广站",
    "重庆某律师事务所",
    "武隆区职业教育中心",
    "某民营企业",
    "武隆区规划设计院",
];
const POSITIONS: [&str; 8] = [
    "副院长",
    "教师",
    "总经理",
    "高级农艺师",
    "律师",
    "副校长",
    "董事长",
    "工程师",
];

fn pick<'a>(rng: &mut StdRng, items: &'a [&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

fn pick_char(rng: &mut StdRng, chars: &str) -> char {
    let chars: Vec<char> = chars.chars().collect();
    chars[rng.random_range(0..chars.len())]
}

/// The units demo cadres belong to.
struct DemoUnits {
    townships: Vec<i64>,
    departments: Vec<i64>,
    /// The name of each of them, by id (a cadre row keeps its unit's name).
    names: HashMap<i64, String>,
}

/// The district, its townships and departments (created when missing).
fn units(conn: &mut DbConn, actor: &Actor) -> Result<DemoUnits, ApiError> {
    let existing = accounts::service::list_units(
        conn,
        UnitQuery {
            kind: None,
            parent_id: None,
            active: None,
            limit: Some(200),
            cursor: None,
        },
    )?
    .items;
    let find_or_create = |conn: &mut DbConn,
                          name: &str,
                          kind: UnitKind,
                          parent_id: Option<i64>|
     -> Result<i64, ApiError> {
        if let Some(unit) = existing.iter().find(|u| u.name == name && u.kind == kind) {
            return Ok(unit.id);
        }
        let division_code = (kind == UnitKind::District).then(|| "500156".to_owned());
        Ok(accounts::service::create_unit(
            conn,
            actor,
            CreateUnitRequest {
                name: name.into(),
                kind,
                parent_id,
                division_code,
            },
        )?
        .id)
    };
    let district = find_or_create(conn, "武隆区", UnitKind::District, None)?;
    let mut names = HashMap::new();
    let mut find_or_create_each = |conn: &mut DbConn, units: &[&str], kind: UnitKind| {
        units
            .iter()
            .map(|&name| {
                let id = find_or_create(conn, name, kind, Some(district))?;
                names.insert(id, name.to_owned());
                Ok(id)
            })
            .collect::<Result<Vec<_>, ApiError>>()
    };
    let townships = find_or_create_each(conn, &TOWNSHIPS, UnitKind::Township)?;
    let departments = find_or_create_each(conn, &DEPARTMENTS, UnitKind::Department)?;
    Ok(DemoUnits {
        townships,
        departments,
        names,
    })
}

/// The `index`-th demo cadre. Birth date and sequence number come from the index, so ID numbers
/// are unique for the first ten million.
fn demo_profile(rng: &mut StdRng, index: u64, townships: &[i64], departments: &[i64]) -> Profile {
    let gender = if rng.random_bool(0.45) {
        Gender::Female
    } else {
        Gender::Male
    };
    let birth_date =
        NaiveDate::from_ymd_opt(1960, 1, 1).unwrap_or_default() + Days::new(index % 16_000);
    let sequence = (index / 16_000) % 500 * 2 + u64::from(gender == Gender::Male);
    let first17 = format!("500156{}{sequence:03}", birth_date.format("%Y%m%d"));
    let id_number = check_char(&first17).map(|c| format!("{first17}{c}"));
    let name = if rng.random_bool(0.03) {
        "阿依古丽·买买提".to_owned()
    } else {
        let mut name = pick_char(rng, SURNAMES).to_string();
        for _ in 0..rng.random_range(1..=2) {
            name.push(pick_char(rng, GIVEN));
        }
        name
    };
    let party = Party::ALL[rng.random_range(0..Party::ALL.len())];
    let mut categories = vec![Category::ALL[rng.random_range(0..Category::ALL.len())]];
    if !matches!(party, Party::None | Party::NonParty) {
        categories.push(Category::DemocraticPartyMember);
    }
    let ethnicity = match rng.random_range(0..10) {
        0..=6 => "01",
        7 | 8 => "15",
        _ => "06",
    };
    if ethnicity != "01" {
        categories.push(Category::EthnicMinority);
    }
    categories.sort();
    categories.dedup();
    let township = rng.random_bool(0.4);
    let unit_id = if township {
        townships
            .get(rng.random_range(0..townships.len().max(1)))
            .copied()
    } else {
        departments
            .get(rng.random_range(0..departments.len().max(1)))
            .copied()
    };
    Profile {
        name,
        former_name: None,
        gender,
        ethnicity: ethnicity.into(),
        birth_date,
        native_place: Some("重庆武隆".into()),
        id_number,
        phone: Some(format!(
            "1{}{:09}",
            rng.random_range(3..=9),
            rng.random_range(0..1_000_000_000_u64)
        )),
        email: None,
        party,
        party_joined_on: None,
        categories,
        level: if township {
            Level::Township
        } else {
            Level::District
        },
        unit_id,
        workplace: Some(pick(rng, &WORKPLACES).into()),
        position: Some(pick(rng, &POSITIONS).into()),
        education: Some(Education::ALL[rng.random_range(0..Education::ALL.len())]),
        degree: Some(Degree::ALL[rng.random_range(0..Degree::ALL.len())]),
        professional_title: None,
        sectors: vec![pick(rng, &SECTORS).into()],
        expertise: vec![pick(rng, &EXPERTISE).into()],
        notes: None,
    }
}

/// Adds `count` demo cadres in transactions of `batch` rows, each batch audited as one event.
/// `progress` is told the number written so far.
pub fn seed(
    conn: &mut DbConn,
    key: &DataKey,
    count: u64,
    batch: u64,
    mut progress: impl FnMut(u64),
) -> Result<u64, ApiError> {
    let actor = Actor::system("seed-demo");
    let demo_units = db::write_transaction(conn, |conn| units(conn, &actor))?;
    let offset: i64 = crate::db::schema::cadres::table.count().get_result(conn)?;
    let offset = u64::try_from(offset).unwrap_or(0);
    let mut rng = StdRng::seed_from_u64(500_156 + offset);
    let mut written = 0;
    while written < count {
        let size = batch.min(count - written);
        db::write_transaction(conn, |conn| {
            tallies::pause(conn)?;
            let new = (0..size)
                .map(|i| {
                    let mut profile = demo_profile(
                        &mut rng,
                        offset + written + i,
                        &demo_units.townships,
                        &demo_units.departments,
                    );
                    let unit_name = service::check_profile_with(&mut profile, |unit_id| {
                        Ok(demo_units.names.get(&unit_id).cloned())
                    })?;
                    Ok(NewCadre { profile, unit_name })
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            let ids = service::insert_new(conn, key, &new)?;
            tallies::count_inserted(conn, &ids)?;
            audit::record(
                conn,
                &actor,
                Event::about("cadres.seeded", "cadre", None).after(json!({"count": size})),
            )?;
            Ok(())
        })?;
        written += size;
        progress(written);
    }
    Ok(written)
}
