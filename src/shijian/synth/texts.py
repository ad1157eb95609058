"""The free texts departments write into a record: a complaint's content, a penalty decision's reason, an
inspection's findings. Generated from phrase lists (never real people or firms) so that full-text search over the
lake has something realistic to find: a category first (as the departments' systems file it), then the text.

Each feed chunk draws its texts from its own seeded stream (``texts_for``), so adding texts changed no other
random draw of the generator. Complaints name the complainant by surname and often a mobile number, as real
registers do; the platform masks such numbers wherever it shows or indexes a text (``registry.display.mask_phones``).
"""

from __future__ import annotations

import numpy as np

GOODS = [
    "手机",
    "家用电器",
    "电动自行车",
    "服装",
    "化妆品",
    "家具",
    "瓷砖",
    "燃气灶",
    "保健品",
    "空调",
    "笔记本电脑",
    "儿童玩具",
]
FOODS = [
    "预包装食品",
    "熟食",
    "凉菜",
    "外卖餐食",
    "婴幼儿奶粉",
    "月饼",
    "烘焙糕点",
    "散装白酒",
    "冷冻肉品",
    "蔬菜",
    "水产品",
    "食用油",
]
SERVICES = ["健身", "美容美发", "教育培训", "洗车", "儿童游乐", "摄影", "家政服务", "汽车维修"]

COMPLAINTS: dict[str, list[str]] = {
    "商品质量": [
        "消费者反映在该店购买的{g}存在质量问题，使用不久即出现故障，商家拒绝退换",
        "投诉人称购买的{g}与宣传不符、质量不合格，要求退货退款",
        "消费者反映网购的{g}收货后发现破损，商家以已拆封为由拒绝售后",
    ],
    "虚假宣传": [
        "消费者反映商家宣传{g}“全网最低价”“国家级产品”，与实际不符，涉嫌虚假宣传",
        "投诉人称商家在直播中夸大{g}功效，诱导消费",
        "消费者反映商家虚构{g}销量和用户评价",
    ],
    "价格欺诈": [
        "消费者反映{g}明码标价与结算价格不一致，多收费用",
        "投诉人称商家先提价后打折，{g}虚构原价",
        "消费者反映{f}未明码标价，结账时被收取高价",
    ],
    "食品安全": [
        "消费者反映在该店购买的{f}已超过保质期",
        "投诉人称食用该店{f}后出现腹泻、呕吐症状，怀疑食品变质",
        "消费者反映{f}中发现异物",
        "群众举报该店后厨卫生脏乱，{f}生熟混放",
    ],
    "预付卡退费": [
        "消费者反映办理的{s}预付卡，商家停业后拒绝退还余额",
        "投诉人称商家擅自变更{s}服务项目，拒不退费",
        "消费者反映{s}会员卡到期前门店关闭，联系不上经营者",
    ],
    "噪声扰民": [
        "群众反映该经营场所夜间施工噪声扰民",
        "居民举报该店音响外放声音过大，影响休息",
        "群众反映该店冷却设备噪声扰民，多次协商无果",
    ],
}
DEMANDS: dict[str, list[str]] = {
    "商品质量": ["要求退货退款", "要求更换商品", "要求退货并赔偿"],
    "虚假宣传": ["要求依法查处", "要求退款并赔偿", "要求商家道歉并赔偿损失"],
    "价格欺诈": ["要求退还多收价款", "要求依法查处", "要求退一赔三"],
    "食品安全": ["要求退款并赔偿", "要求依法查处", "要求赔偿医疗费用"],
    "预付卡退费": ["要求退还余额", "要求退还预付款", "要求依法查处"],
    "噪声扰民": ["要求依法处理", "要求停止噪声扰民", "要求限期整改"],
}
TITLES = ["先生", "女士"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁郑谢"

FOUND_NOTHING = [
    "检查营业执照公示情况、经营场所及进货查验记录",
    "检查食品贮存条件、从业人员健康证明",
    "检查计量器具检定情况",
    "检查特种设备使用登记及定期检验情况",
    "检查产品标识标签和广告发布内容",
    "检查价格公示和收费情况",
]
FINDINGS = [
    "经营场所未公示食品经营许可证",
    "部分预包装食品超过保质期，未及时下架",
    "从业人员未取得健康证明",
    "计量器具未经检定即投入使用",
    "未建立进货查验记录",
    "消防通道被货物堵塞",
    "特种设备超期未检验",
    "价格标签不规范，部分商品未明码标价",
    "销售的电器产品无中文标识",
    "广告使用“最”“第一”等绝对化用语",
    "冷藏设施温度记录缺失",
    "过期原料与待用原料混放",
    "住所与登记地址不一致",
    "经营范围超出许可项目",
]
ACTIONS = {
    "发现问题已责令改正": "已责令当场改正",
    "发现问题待后续处理": "已移送立案调查",
    "不配合检查": "当事人拒绝提供相关资料，不配合检查",
    "未按规定公示": "未按规定公示即时信息，已责令限期公示",
}
VIOLATIONS: dict[str, list[str]] = {
    "食品安全法": [
        "经营超过保质期的食品",
        "未取得食品经营许可从事食品经营活动",
        "安排未取得健康证明的人员从事接触直接入口食品的工作",
        "未按规定建立并遵守进货查验记录制度",
    ],
    "产品质量法": ["销售不合格的电器产品", "在产品中掺杂、掺假", "伪造产品产地", "销售失效、变质的产品"],
    "广告法": [
        "发布含有“最佳”“国家级”等绝对化用语的广告",
        "发布虚假广告，欺骗、误导消费者",
        "未经审查发布保健食品广告",
    ],
    "价格法": [
        "不按规定明码标价",
        "利用虚假的或者使人误解的价格手段诱骗消费者交易",
        "在商品价格之外加价收取未标明的费用",
    ],
    "安全生产法": ["未按规定对从业人员进行安全生产教育和培训", "未对安全设备进行经常性维护、保养"],
    "消防法": ["占用、堵塞消防通道", "消防设施、器材未保持完好有效"],
}
PUNISHMENTS = ["警告", "罚款人民币{a}元", "没收违法所得，并处罚款人民币{a}元", "责令改正，并处罚款人民币{a}元"]


def _pick(rng: np.random.Generator, items: list[str], k: int) -> list[str]:
    return [items[i] for i in rng.integers(0, len(items), k)]


def complaints(rng: np.random.Generator, categories: list[str]) -> list[str]:
    """A complaint's content for each category: what happened, the demand, and often who complained."""
    k = len(categories)
    g, f, s = _pick(rng, GOODS, k), _pick(rng, FOODS, k), _pick(rng, SERVICES, k)
    demand = rng.random(k)
    template = rng.random(k)
    who = rng.random(k)
    surname, title = _pick(rng, list(SURNAMES), k), _pick(rng, TITLES, k)
    phone = rng.integers(13_000_000_000, 19_999_999_999, k)
    out = []
    for i, cat in enumerate(categories):
        options = COMPLAINTS.get(cat)
        if not options:
            out.append(cat)
            continue
        body = options[int(template[i] * len(options))].format(g=g[i], f=f[i], s=s[i])
        wants = DEMANDS[cat]
        text = f"{cat}：{body}，{wants[int(demand[i] * len(wants))]}。"
        if who[i] < 0.6:
            text += f"（投诉人：{surname[i]}{title[i]}，联系电话：{phone[i]}）"
        out.append(text)
    return out


def findings(rng: np.random.Generator, kinds: list[str], results: list[str]) -> list[str]:
    """An inspection's findings: what was checked and nothing found, or what was found and what was done."""
    k = len(kinds)
    checked, found = _pick(rng, FOUND_NOTHING, k), _pick(rng, FINDINGS, k)
    second = _pick(rng, FINDINGS, k)
    two = rng.random(k) < 0.3
    out = []
    for i, (kind, result) in enumerate(zip(kinds, results, strict=True)):
        action = ACTIONS.get(result)
        if action is None:
            out.append(f"{kind}：{checked[i]}，未发现违法违规行为。")
            continue
        what = found[i] + (f"；{second[i]}" if two[i] and second[i] != found[i] else "")
        out.append(f"{kind}：检查发现{what}，{action}。")
    return out


def penalties(rng: np.random.Generator, laws: list[str], amounts_wan: np.ndarray) -> list[str]:
    """A penalty decision's reason: the conduct, the law it breaks and what was decided."""
    k = len(laws)
    conduct = rng.random(k)
    punish = _pick(rng, PUNISHMENTS, k)
    out = []
    for i, label in enumerate(laws):
        law = label.removeprefix("违反《").removesuffix("》")
        options = VIOLATIONS.get(law)
        if not options:
            out.append(label)
            continue
        act = options[int(conduct[i] * len(options))]
        yuan = max(500, int(round(float(amounts_wan[i]) * 10_000, -2)))
        decision = punish[i].format(a=yuan)
        out.append(f"{label}：当事人{act}，违反了《{law}》的规定，依法决定给予{decision}。")
    return out


def texts_for(
    rng: np.random.Generator, rtype: str, details: list[str], results: list[str], amounts: np.ndarray
) -> list[str]:
    """The record's detail column: the category alone for record kinds without a free text."""
    if rtype == "complaint":
        return complaints(rng, details)
    if rtype == "inspection":
        return findings(rng, details, results)
    if rtype == "penalty":
        return penalties(rng, details, amounts)
    return details
