"""Departments, item categories, spot-check items, responsibilities and tags of a synthetic district."""

from __future__ import annotations

from dataclasses import dataclass

from shijian.core.codes import tables


@dataclass(frozen=True)
class DeptTemplate:
    key: str
    name: str  # {d} = district short name
    categories: tuple[str, ...]
    record_types: tuple[str, ...]
    weight: float  # share of records and inspectors


DISTRICT_DEPTS: tuple[DeptTemplate, ...] = (
    DeptTemplate(
        "SAMR",
        "{d}市场监督管理局",
        ("REG", "FOOD", "SPEQ", "PQ", "MEAS", "ADV", "PRICE", "DRUG", "IP"),
        ("registration_change", "licence", "inspection", "penalty", "complaint", "abnormal", "annual_report"),
        8.0,
    ),
    DeptTemplate("TAX", "{d}税务局", ("TAX",), ("tax",), 4.0),
    DeptTemplate("HEALTH", "{d}卫生健康局", ("HEALTH",), ("licence", "inspection", "penalty"), 1.2),
    DeptTemplate("SAFETY", "{d}应急管理局", ("SAFETY",), ("inspection", "penalty"), 1.0),
    DeptTemplate("ENV", "{d}生态环境分局", ("ENV",), ("licence", "inspection", "penalty"), 1.0),
    DeptTemplate("FIRE", "{d}消防救援大队", ("FIRE",), ("inspection", "penalty"), 0.8),
    DeptTemplate("HRSS", "{d}人力资源和社会保障局", ("LABOUR",), ("inspection", "penalty", "complaint"), 0.8),
    DeptTemplate("HOUSING", "{d}住房城乡建设和水利局", ("BUILD",), ("licence", "inspection", "penalty"), 0.6),
    DeptTemplate("TRANSPORT", "{d}交通运输局", ("TRANS",), ("licence", "inspection", "penalty"), 0.5),
    DeptTemplate("AGRI", "{d}农业农村局", ("AGRI",), ("licence", "inspection"), 0.4),
    DeptTemplate("CULTURE", "{d}文化广电旅游体育局", ("CULT",), ("licence", "inspection", "penalty"), 0.4),
    DeptTemplate("POLICE", "公安{d}分局", (), ("licence", "penalty"), 0.3),
    DeptTemplate("URBAN", "{d}城市管理和综合执法局", ("URBAN",), ("penalty", "complaint"), 0.8),
    DeptTemplate("EDU", "{d}教育局", ("EDU",), ("licence", "inspection"), 0.2),
    DeptTemplate("COMMERCE", "{d}经济和科技促进局", ("COMM",), ("licence",), 0.3),
    DeptTemplate("MEDINS", "{d}医疗保障局", ("MEDINS",), ("inspection", "penalty"), 0.2),
    DeptTemplate("COURT", "{d}人民法院", (), ("litigation",), 1.0),
)
CITY_DEPTS: tuple[DeptTemplate, ...] = (
    DeptTemplate("CSAMR", "{d}市场监督管理局", ("SPEQ", "PQ", "DRUG"), ("inspection", "penalty", "licence"), 1.0),
    DeptTemplate("CTAX", "国家税务总局{d}税务局", ("TAX",), ("tax",), 0.5),
    DeptTemplate("CHRSS", "{d}人力资源和社会保障局", ("LABOUR",), ("inspection",), 0.3),
    DeptTemplate("CEE", "{d}生态环境局", ("ENV",), ("licence", "inspection", "penalty"), 0.5),
    DeptTemplate("CEM", "{d}应急管理局", ("SAFETY",), ("inspection",), 0.3),
    DeptTemplate("CHOUSE", "{d}住房和城乡建设管理局", ("BUILD",), ("licence",), 0.3),
    DeptTemplate("CCOMM", "{d}商务局", ("COMM",), ("licence",), 0.2),
    DeptTemplate("CCUST", "{d}海关", (), ("licence", "penalty"), 0.2),
    DeptTemplate("CIP", "{d}知识产权局", ("IP",), ("licence",), 0.1),
    DeptTemplate("CCOURT", "{d}中级人民法院", (), ("litigation",), 0.4),
    DeptTemplate("C12345", "{d}12345政务服务便民热线", (), ("complaint",), 1.5),
)
TOWN_DEPT = DeptTemplate(
    "SAMRS", "{d}{t}市场监督管理所", ("REG", "FOOD", "PRICE", "ADV"), ("inspection", "complaint"), 0.6
)

CATEGORIES: dict[str, str] = {
    "REG": "登记事项",
    "FOOD": "食品安全",
    "SPEQ": "特种设备",
    "PQ": "产品质量",
    "MEAS": "计量",
    "ADV": "广告",
    "PRICE": "价格收费",
    "DRUG": "药品医疗器械化妆品",
    "IP": "知识产权",
    "TAX": "税收",
    "HEALTH": "公共卫生",
    "SAFETY": "安全生产",
    "ENV": "生态环境",
    "FIRE": "消防安全",
    "LABOUR": "劳动保障",
    "BUILD": "建筑市场",
    "TRANS": "道路运输",
    "AGRI": "农资",
    "CULT": "文化旅游",
    "EDU": "校外培训",
    "COMM": "商贸流通",
    "MEDINS": "医保基金",
    "URBAN": "市容环境",
}

# code, name, category, sub-items, legal basis, entity types, industry prefixes, kind, ratio cap, method
ITEMS: tuple[tuple[str, str, str, str, str, str, str, str, str, str], ...] = (
    (
        "REG-01",
        "企业公示信息情况检查",
        "REG",
        "年度报告公示信息；即时公示信息",
        "《企业信息公示暂行条例》第十六条",
        "llc,joint_stock,state_owned,foreign,partnership,sole,branch",
        "",
        "general",
        "3",
        "书面检查；实地核查",
    ),
    (
        "REG-02",
        "个体工商户年度报告公示情况检查",
        "REG",
        "年报公示信息",
        "《个体工商户条例》",
        "individual",
        "",
        "general",
        "3",
        "书面检查",
    ),
    (
        "REG-03",
        "农民专业合作社年度报告公示情况检查",
        "REG",
        "年报公示信息",
        "《农民专业合作社年度报告公示暂行办法》",
        "cooperative",
        "",
        "general",
        "5",
        "书面检查",
    ),
    (
        "REG-04",
        "登记事项检查",
        "REG",
        "住所；经营范围；注册资本实缴",
        "《市场主体登记管理条例》第三十五条",
        "",
        "",
        "general",
        "5",
        "实地核查",
    ),
    (
        "FOOD-01",
        "食品销售者监督检查",
        "FOOD",
        "许可资质；进货查验；贮存条件；标签标识",
        "《中华人民共和国食品安全法》第一百一十条",
        "",
        "512,521,522",
        "key",
        "",
        "实地核查；抽样检验",
    ),
    (
        "FOOD-02",
        "餐饮服务提供者监督检查",
        "FOOD",
        "许可资质；从业人员健康；原料控制；加工制作；餐饮具清洗消毒",
        "《中华人民共和国食品安全法》第一百一十条",
        "",
        "62",
        "key",
        "",
        "实地核查",
    ),
    (
        "FOOD-03",
        "食品生产者监督检查",
        "FOOD",
        "生产许可；原料把关；过程控制；出厂检验",
        "《食品生产经营监督检查管理办法》",
        "",
        "13,14,15",
        "key",
        "",
        "实地核查；抽样检验",
    ),
    (
        "SPEQ-01",
        "特种设备使用单位监督检查",
        "SPEQ",
        "使用登记；定期检验；作业人员持证；安全管理制度",
        "《中华人民共和国特种设备安全法》第五十七条",
        "",
        "",
        "key",
        "",
        "实地核查",
    ),
    (
        "PQ-01",
        "生产领域产品质量监督抽查",
        "PQ",
        "产品质量抽样检验",
        "《中华人民共和国产品质量法》第十五条",
        "",
        "C",
        "general",
        "5",
        "抽样检验",
    ),
    (
        "PQ-02",
        "流通领域商品质量抽查",
        "PQ",
        "商品质量抽样检验",
        "《中华人民共和国产品质量法》第十五条",
        "",
        "F",
        "general",
        "3",
        "抽样检验",
    ),
    (
        "MEAS-01",
        "计量器具使用单位检查",
        "MEAS",
        "强制检定；计量器具管理",
        "《中华人民共和国计量法》第九条",
        "",
        "F,H,C",
        "general",
        "3",
        "实地核查",
    ),
    (
        "ADV-01",
        "广告发布行为检查",
        "ADV",
        "广告内容；广告审查",
        "《中华人民共和国广告法》第四十九条",
        "",
        "725,64,R",
        "general",
        "3",
        "网络监测；实地核查",
    ),
    (
        "PRICE-01",
        "明码标价和价格行为检查",
        "PRICE",
        "明码标价；价格欺诈",
        "《中华人民共和国价格法》",
        "",
        "F,H,O",
        "general",
        "2",
        "实地核查",
    ),
    (
        "DRUG-01",
        "药品零售企业监督检查",
        "DRUG",
        "药品经营许可；处方药销售；储存条件",
        "《中华人民共和国药品管理法》第九十九条",
        "",
        "5251,5252",
        "key",
        "",
        "实地核查",
    ),
    (
        "DRUG-02",
        "化妆品经营者检查",
        "DRUG",
        "进货查验；标签",
        "《化妆品监督管理条例》",
        "",
        "5124,5234",
        "general",
        "5",
        "实地核查",
    ),
    (
        "IP-01",
        "商标使用行为检查",
        "IP",
        "注册商标使用；商标标识",
        "《中华人民共和国商标法》",
        "llc,joint_stock,foreign",
        "C",
        "general",
        "2",
        "实地核查",
    ),
    (
        "TAX-01",
        "纳税申报情况检查",
        "TAX",
        "申报；缴纳",
        "《中华人民共和国税收征收管理法》",
        "",
        "",
        "general",
        "3",
        "书面检查",
    ),
    (
        "HEALTH-01",
        "公共场所卫生监督检查",
        "HEALTH",
        "卫生许可；从业人员健康证明",
        "《公共场所卫生管理条例》",
        "",
        "80,61,89",
        "general",
        "10",
        "实地核查",
    ),
    (
        "SAFETY-01",
        "工贸企业安全生产检查",
        "SAFETY",
        "安全生产责任制；隐患排查治理",
        "《中华人民共和国安全生产法》第六十五条",
        "",
        "C",
        "key",
        "",
        "实地核查",
    ),
    (
        "ENV-01",
        "排污单位监督检查",
        "ENV",
        "排污许可；污染防治设施运行",
        "《排污许可管理条例》",
        "",
        "C,D,N",
        "general",
        "5",
        "实地核查",
    ),
    (
        "FIRE-01",
        "消防安全检查",
        "FIRE",
        "消防设施；疏散通道",
        "《中华人民共和国消防法》第五十三条",
        "",
        "H,F,R,O",
        "general",
        "5",
        "实地核查",
    ),
    (
        "LABOUR-01",
        "劳动用工情况检查",
        "LABOUR",
        "劳动合同；工资支付；社保缴纳",
        "《劳动保障监察条例》",
        "llc,joint_stock,foreign,state_owned",
        "",
        "general",
        "3",
        "书面检查；实地核查",
    ),
    (
        "BUILD-01",
        "建筑业企业资质检查",
        "BUILD",
        "资质；安全生产许可",
        "《建筑业企业资质管理规定》",
        "",
        "E",
        "general",
        "5",
        "实地核查",
    ),
    (
        "TRANS-01",
        "道路运输经营者检查",
        "TRANS",
        "经营许可；车辆技术状况",
        "《中华人民共和国道路运输条例》",
        "",
        "54",
        "general",
        "5",
        "实地核查",
    ),
    (
        "AGRI-01",
        "农资经营检查",
        "AGRI",
        "农药；种子；化肥",
        "《农药管理条例》",
        "",
        "5166,A",
        "general",
        "5",
        "实地核查；抽样检验",
    ),
    (
        "CULT-01",
        "文化娱乐场所检查",
        "CULT",
        "经营许可；内容",
        "《娱乐场所管理条例》",
        "",
        "90",
        "general",
        "5",
        "实地核查",
    ),
    (
        "EDU-01",
        "校外培训机构检查",
        "EDU",
        "办学许可；收费",
        "《中华人民共和国民办教育促进法》",
        "",
        "P",
        "general",
        "5",
        "实地核查",
    ),
    (
        "COMM-01",
        "单用途商业预付卡检查",
        "COMM",
        "备案；资金管理",
        "《单用途商业预付卡管理办法（试行）》",
        "",
        "F,H,O",
        "general",
        "3",
        "书面检查",
    ),
    (
        "MEDINS-01",
        "定点医药机构医保基金使用检查",
        "MEDINS",
        "医保结算；进销存",
        "《医疗保障基金使用监督管理条例》",
        "",
        "Q,5251",
        "general",
        "10",
        "书面检查；实地核查",
    ),
    (
        "URBAN-01",
        "户外广告和招牌设置检查",
        "URBAN",
        "设置许可；安全",
        "《城市市容和环境卫生管理条例》",
        "",
        "F,H",
        "general",
        "3",
        "实地核查",
    ),
)

TAGS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # code, name, GB/T 4754 codes (section letter or numeric prefix) that carry the tag
    ("food_sale", "食品销售", ("512", "521", "522")),
    ("catering", "餐饮服务", ("62",)),
    ("food_production", "食品生产", ("13", "14", "15")),
    ("special_equipment", "特种设备使用单位", ("C", "70", "61", "59")),
    ("drug_retail", "药品零售", ("5251", "5252")),
    ("cosmetics", "化妆品经营", ("5124", "5234")),
    ("hazardous_chem", "危险化学品", ("26", "5162")),
    ("public_place", "公共场所", ("80", "61", "89", "90")),
    ("key_product", "重点工业产品生产", ("33", "38", "29", "30")),
)


def short_name(code: str) -> str:
    return tables.divisions()[code].name


def districts_of(region: str) -> list[str]:
    if len(region) == 6:
        return [region]
    return sorted(
        d.code
        for d in tables.divisions().values()
        if d.level == "district" and d.code.startswith(region) and not d.name.endswith("市辖区")
    )


def towns_of(district: str) -> list[str]:
    return sorted(
        d.code
        for d in tables.divisions().values()
        if d.level == "town" and d.parent == district and int(d.code[6:9]) < 400
    )


@dataclass(frozen=True)
class Dept:
    code: str
    name: str
    level: str
    region: str
    template: DeptTemplate


def departments(region: str) -> list[Dept]:
    out: list[Dept] = []
    if len(region) == 4:
        for t in CITY_DEPTS:
            out.append(Dept(f"{region}-{t.key}", t.name.format(d=short_name(region), t=""), "city", region, t))
    for district in districts_of(region):
        for t in DISTRICT_DEPTS:
            out.append(Dept(f"{district}-{t.key}", t.name.format(d=short_name(district)), "district", district, t))
        if len(region) == 6:
            for town in towns_of(district):
                name = TOWN_DEPT.name.format(
                    d=short_name(district), t=short_name(town).removesuffix("街道").removesuffix("镇")
                )
                out.append(Dept(f"{town}-{TOWN_DEPT.key}", name, "town", town, TOWN_DEPT))
    return out
