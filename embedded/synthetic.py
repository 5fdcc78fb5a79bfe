"""Seeded synthetic complaints (Chinese texts) for the demo, the tests and the benchmarks.

Real complaints carry personal data, so everything here is invented: names from common
surnames and given names, mobile numbers from valid mainland prefixes, e-mail addresses
only at the reserved ``example.com`` / ``example.cn`` domains. Like the ``rules`` package
this module is pure: no Prefect, no database, no clock. The caller passes ``now`` and a
seed, and the same seed and ``now`` give the same complaints, byte for byte, so a failing
test or a slow benchmark can be replayed. Most of its length is the word lists.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rules.enums import (
    Category,
    Channel,
    Demand,
    Department,
    FeedbackMethod,
    ProgressKind,
    Scope,
    Severity,
)
from rules.intake import ComplaintIn
from rules.routing import DEFAULT_ROUTING
from rules.steps import Step

__all__ = ["decisions_for", "generate_complaints", "iter_complaints"]

SHANGHAI = ZoneInfo("Asia/Shanghai")

# --- how often things happen -------------------------------------------------------------

ON_SPOT_RATE = 0.05  # answered on the spot (当场解答)
REPEAT_RATE = 0.03  # the same customer complains again about the same product
ORDER_NO_RATE = 0.85
DEMAND_DETAIL_RATE = 0.7
OCCURRED_AT_RATE = 0.9
REPEAT_POOL_SIZE = 500  # recent customers a repeat is drawn from; bounded for a million rows

# Weights, not probabilities: the hotline and online chat carry most complaints, yet every
# channel keeps at least ~2 % so a few hundred complaints exercise all of them.
CHANNEL_WEIGHTS: dict[Channel, int] = {
    Channel.HOTLINE: 26,
    Channel.CHAT: 20,
    Channel.APP: 12,
    Channel.EMAIL: 8,
    Channel.SOCIAL: 6,
    Channel.THIRD_PARTY: 4,
    Channel.LETTER: 3,
    Channel.VISIT: 3,
    Channel.MEETING: 3,
    Channel.SURVEY: 4,
    Channel.VOICE_CALLBACK: 3,
    Channel.STAFF: 4,
    Channel.DEPARTMENT: 4,
}

# The prefix of the channel's own reference: 来电流水号 HL-..., 工单号 CS-..., and so on.
CHANNEL_REF_PREFIX: dict[Channel, str] = {
    Channel.HOTLINE: "HL",
    Channel.CHAT: "CS",
    Channel.EMAIL: "EM",
    Channel.APP: "AP",
    Channel.SOCIAL: "SM",
    Channel.LETTER: "LT",
    Channel.VISIT: "VS",
    Channel.MEETING: "MT",
    Channel.SURVEY: "SV",
    Channel.VOICE_CALLBACK: "VC",
    Channel.STAFF: "ST",
    Channel.DEPARTMENT: "DP",
    Channel.THIRD_PARTY: "TP",
}

CATEGORY_WEIGHTS: dict[Category, int] = {
    Category.PRODUCT_QUALITY: 28,
    Category.LOGISTICS: 24,
    Category.AFTER_SALES: 18,
    Category.SERVICE_ATTITUDE: 14,
    Category.POLICY: 11,
    Category.OTHER: 5,
}

# Mostly 一般, some 严重, few 重大.
SEVERITY_WEIGHTS: dict[Severity, int] = {
    Severity.GENERAL: 80,
    Severity.SERIOUS: 17,
    Severity.MAJOR: 3,
}

# The data tables below keep several entries per line: one per line would triple them.
# fmt: off
# What customers ask for depends on what went wrong; every demand occurs somewhere.
DEMAND_WEIGHTS: dict[Category, dict[Demand, int]] = {
    Category.PRODUCT_QUALITY: {
        Demand.EXCHANGE: 4, Demand.REFUND: 3, Demand.REPAIR: 3, Demand.COMPENSATION: 1,
    },
    Category.LOGISTICS: {
        Demand.COMPENSATION: 3, Demand.REFUND: 2, Demand.EXCHANGE: 1, Demand.APOLOGY: 1,
        Demand.EXPLANATION: 1, Demand.IMPROVE_SERVICE: 1,
    },
    Category.AFTER_SALES: {
        Demand.REPAIR: 4, Demand.REFUND: 2, Demand.COMPENSATION: 1, Demand.IMPROVE_SERVICE: 1,
    },
    Category.SERVICE_ATTITUDE: {
        Demand.APOLOGY: 5, Demand.IMPROVE_SERVICE: 4, Demand.COMPENSATION: 1,
    },
    Category.POLICY: {Demand.EXPLANATION: 4, Demand.REFUND: 2, Demand.COMPENSATION: 2},
    Category.OTHER: {Demand.IMPROVE_SERVICE: 3, Demand.EXPLANATION: 3, Demand.APOLOGY: 1},
}

# --- people ------------------------------------------------------------------------------

# (汉字, pinyin): the pinyin builds a plausible e-mail local part.
SURNAMES: tuple[tuple[str, str], ...] = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
    ("杨", "yang"), ("赵", "zhao"), ("黄", "huang"), ("周", "zhou"), ("吴", "wu"),
    ("徐", "xu"), ("孙", "sun"), ("胡", "hu"), ("朱", "zhu"), ("高", "gao"),
    ("林", "lin"), ("何", "he"), ("郭", "guo"), ("马", "ma"), ("罗", "luo"),
    ("梁", "liang"), ("宋", "song"), ("郑", "zheng"), ("谢", "xie"), ("韩", "han"),
    ("唐", "tang"), ("冯", "feng"), ("于", "yu"), ("董", "dong"), ("萧", "xiao"),
    ("欧阳", "ouyang"), ("司马", "sima"),
)
GIVEN_NAMES: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("秀英", "xiuying"), ("敏", "min"),
    ("静", "jing"), ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"),
    ("洋", "yang"), ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"),
    ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀兰", "xiulan"), ("霞", "xia"),
    ("平", "ping"), ("刚", "gang"), ("桂英", "guiying"), ("建华", "jianhua"),
    ("海燕", "haiyan"), ("晓东", "xiaodong"), ("子涵", "zihan"), ("浩然", "haoran"),
    ("欣怡", "xinyi"), ("雨轩", "yuxuan"), ("梓萱", "zixuan"), ("志强", "zhiqiang"),
    ("丹", "dan"), ("鹏", "peng"), ("婷婷", "tingting"), ("文博", "wenbo"),
)
EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.cn")  # reserved: never real
MOBILE_PREFIXES: tuple[str, ...] = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "173", "176", "177", "178", "180",
    "181", "182", "183", "185", "186", "187", "188", "189", "191", "198", "199",
)

RECEIVERS: tuple[str, ...] = (
    "客服-王芳", "客服-李娜", "客服-张伟", "热线-陈静", "热线-刘洋", "网络客服-赵雪",
)
HANDLERS: dict[Department, tuple[str, ...]] = {
    Department.PRODUCT: ("产品-郑华", "质检-高明"),
    Department.CUSTOMER_SERVICE: ("客服-黄丽", "客服-李娜"),
    Department.LOGISTICS: ("物流-吴磊", "物流-孙涛"),
    Department.AFTER_SALES: ("售后-孙浩", "售后-马军"),
    Department.OPERATIONS: ("运营-何平",),
    Department.MARKETING: ("市场-林静",),
    Department.OTHER: ("综合-徐刚",),
}
GRADERS: tuple[str, ...] = ("客服主管-周敏", "质量主管-谢军")
APPROVERS: tuple[str, ...] = ("客服经理-林涛", "运营总监-韩梅")
CALLBACK_AGENTS: tuple[str, ...] = ("回访-宋佳", "回访-冯丽")

# --- what happened -----------------------------------------------------------------------

GOODS: tuple[str, ...] = (
    "电热水壶", "空气炸锅", "电饭煲", "破壁机", "吹风机", "蓝牙耳机", "智能手表",
    "扫地机器人", "加湿器", "电动牙刷", "儿童保温杯", "羽绒服", "床垫", "办公椅",
)
APPLIANCES: tuple[str, ...] = (
    "冰箱", "洗衣机", "空调", "燃气热水器", "油烟机", "洗碗机", "扫地机器人", "笔记本电脑",
)
FRAGILE_OR_BULKY: tuple[str, ...] = (
    "冰箱", "洗衣机", "床垫", "沙发", "婴儿推车", "生鲜礼盒", "大米礼盒", "空气炸锅",
    "电热水壶", "办公椅",
)
SERVICE_POINTS: tuple[str, ...] = (
    "客服热线", "在线客服", "门店导购", "安装师傅", "配送员", "售后专员",
)
DIGITAL_SERVICES: tuple[str, ...] = ("会员APP", "官方网站", "积分商城", "小程序")

PRODUCTS: dict[Category, tuple[str, ...]] = {
    Category.PRODUCT_QUALITY: GOODS,
    Category.LOGISTICS: FRAGILE_OR_BULKY,
    Category.AFTER_SALES: APPLIANCES,
    Category.SERVICE_ATTITUDE: SERVICE_POINTS,
    Category.POLICY: GOODS,
    Category.OTHER: DIGITAL_SERVICES,
}

# Placeholders: {product}, {days} (Chinese numeral), {hours}, {amount} (yuan).
DESCRIPTIONS: dict[Category, tuple[str, ...]] = {
    Category.PRODUCT_QUALITY: (
        "收到的{product}底部漏水，用了{days}天就不能用了",
        "新买的{product}外壳有裂缝，包装完好，应该是出厂就有的问题",
        "{product}使用{days}天后出现异响，还有一股焦糊味",
        "{product}充电后无法开机，指示灯一直闪烁",
        "{product}和详情页描述不一致，宣传的功能根本没有",
        "{product}做工粗糙，接缝处有毛刺，把孩子的手划伤了",
        "{product}用了不到{days}天就掉漆，颜色也和图片差很多",
    ),
    Category.LOGISTICS: (
        "快递延误{days}天还没送到，{product}的物流信息一直停在中转站",
        "{product}送到时外包装破损，里面的东西也摔坏了",
        "快递员没打电话就把{product}放在驿站，系统却显示本人签收",
        "约好送货上门安装{product}，师傅没来也没通知，白等了{hours}个小时",
        "{product}的配送地址被改错，发到了别的城市",
        "下单{days}天了{product}还没发货，客服一直说在排单",
        "送货师傅要求额外收取{amount}元上楼费，不给就不送{product}",
    ),
    Category.AFTER_SALES: (
        "{product}报修{days}天无人上门，打电话催了好几次",
        "{product}维修后没过{days}天又坏了，还是同样的故障",
        "寄回维修的{product}已经{days}天了，一直查不到进度",
        "{product}还在保修期内，售后却要收{amount}元检测费",
        "申请退货{days}天了，{product}的退款还没到账",
        "售后工单被无故关闭，{product}的问题一直没解决",
    ),
    Category.SERVICE_ATTITUDE: (
        "{product}态度很差，问了两句就不耐烦，直接不理人",
        "{product}说话很冲，还说“爱买不买”",
        "{product}一直推诿，说问题不归他们管",
        "{product}承诺当天回电，结果{days}天都没人联系",
        "{product}当着其他顾客的面大声指责我，让人很难堪",
        "{product}强行推销{amount}元的延保服务，不买就冷嘲热讽",
        "找{product}反映问题，等了{hours}个小时没人理",
    ),
    Category.POLICY: (
        "收到{product}第{days}天申请七天无理由退货被拒，理由是已拆封",
        "买了{product}第二天就降价{amount}元，申请价格保护被拒",
        "以旧换新活动说好补贴{amount}元，结算{product}时只给了一半",
        "会员积分突然清零，没有收到任何提前通知",
        "优惠券满减规则写得不清楚，下单{product}后才发现不能叠加使用",
        "分期免息购买{product}，却被收了{amount}元手续费",
    ),
    Category.OTHER: (
        "频繁收到{product}的营销短信，回复退订后还在发",
        "{product}登录不上，提示系统繁忙已经{days}天了",
        "{product}自动续费会员，扣了{amount}元却没有任何提醒",
        "在{product}下单后接到很多推销电话，怀疑个人信息被泄露",
        "发票抬头开错了，在{product}申请重开{days}天没有回复",
    ),
}

# A second sentence, by severity: it is what makes a complaint 严重 or 重大 to a grader.
REMARKS: dict[Severity, tuple[str, ...]] = {
    Severity.GENERAL: (
        "", "", "", "希望尽快处理。", "已经打过两次电话了。", "麻烦给个答复。",
        "这已经是第二次出现这种情况。",
    ),
    Severity.SERIOUS: (
        "客户情绪激动，表示要向消费者协会投诉。",
        "客户称多次联系无果，要求主管出面处理。",
        "客户表示如不解决将在社交平台曝光。",
    ),
    Severity.MAJOR: (
        "客户称已在微博发帖，已有大量转发和评论。",
        "事件涉及人身安全，客户家人因此受伤就医。",
        "客户已联系媒体记者，并准备提起诉讼。",
    ),
}

DEMAND_DETAILS: dict[Demand, tuple[str, ...]] = {
    Demand.REFUND: ("要求全额退款{amount}元", "希望退货退款，运费由商家承担"),
    Demand.EXCHANGE: ("希望换一台新的{product}", "要求尽快换货，不要再发同一批次的"),
    Demand.REPAIR: ("希望尽快安排上门维修", "要求免费维修并说明故障原因"),
    Demand.APOLOGY: ("要求相关人员道歉", "希望公司给出书面道歉"),
    Demand.COMPENSATION: ("要求补偿{amount}元", "希望给予一定的经济补偿"),
    Demand.IMPROVE_SERVICE: ("希望加强人员培训，改进服务", "希望以后不要再出现类似问题"),
    Demand.EXPLANATION: ("希望给个合理的解释", "想了解具体的规则是怎么规定的"),
}

ON_SPOT_ANSWERS: dict[Category, tuple[str, ...]] = {
    Category.PRODUCT_QUALITY: ("已指导客户按说明书重新设置，问题消除，客户认可。",),
    Category.LOGISTICS: ("已查询物流，包裹今日派送，已告知客户派送员电话，客户认可。",),
    Category.AFTER_SALES: ("已当场加急工单并告知上门时间，客户表示接受。",),
    Category.SERVICE_ATTITUDE: ("已代表公司向客户致歉并记录涉事人员，客户表示理解。",),
    Category.POLICY: (
        "已向客户解释七天无理由退货的适用条件，客户表示理解。",
        "已说明价格保护规则及申请入口，客户表示认可。",
    ),
    Category.OTHER: ("已为客户办理退订并说明处理时限，客户表示满意。",),
}

CHINESE_DAYS: dict[int, str] = {
    2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 10: "十", 12: "十二",
    15: "十五",
}
DAY_CHOICES: tuple[int, ...] = tuple(CHINESE_DAYS)
HOUR_CHOICES: tuple[int, ...] = (2, 3, 4, 5)
AMOUNTS: tuple[int, ...] = (30, 50, 80, 99, 129, 150, 199, 200, 299, 399, 500, 599, 899, 1299)

# --- what the handlers decide ------------------------------------------------------------

FINDINGS: dict[Category, str] = {
    Category.PRODUCT_QUALITY: "调取检验记录并查看客户提供的照片视频，确认{product}存在质量缺陷。",
    Category.LOGISTICS: "核对订单和物流轨迹，确认{product}配送环节存在延误或操作不规范。",
    Category.AFTER_SALES: "查询售后工单记录，确认{product}的报修未按时响应。",
    Category.SERVICE_ATTITUDE: "调听通话录音并询问当事人员，确认服务用语不规范。",
    Category.POLICY: "核对订单和活动规则，确认规则说明不清晰导致客户误解。",
    Category.OTHER: "查询系统记录并与客户电话确认，情况属实。",
}
EVIDENCE: dict[Category, str] = {
    Category.PRODUCT_QUALITY: "客户照片3张、视频1段、检验报告",
    Category.LOGISTICS: "物流轨迹截图、签收记录",
    Category.AFTER_SALES: "工单截图、通话记录",
    Category.SERVICE_ATTITUDE: "通话录音",
    Category.POLICY: "订单截图、活动页面截图",
    Category.OTHER: "系统日志截图",
}
ROOT_CAUSES: dict[Category, str] = {
    Category.PRODUCT_QUALITY: "供应商该批次来料不良，出厂抽检未覆盖该项。",
    Category.LOGISTICS: "承运商旺季运力不足，分拣中心积压。",
    Category.AFTER_SALES: "服务网点人手不足，工单派发后无人跟进。",
    Category.SERVICE_ATTITUDE: "一线人员培训不到位，缺少投诉安抚话术。",
    Category.POLICY: "活动规则页面表述含糊，客服解释口径不一致。",
    Category.OTHER: "系统配置错误，相关流程缺少复核。",
}
IMPROVEMENTS: dict[Category, str] = {
    Category.PRODUCT_QUALITY: "加严该批次来料检验，并对库存产品全检。",
    Category.LOGISTICS: "与承运商约定时效考核，延误超过48小时自动预警。",
    Category.AFTER_SALES: "工单超时自动升级到网点主管，每周通报。",
    Category.SERVICE_ATTITUDE: "组织服务规范培训，录音抽检比例提高到10%。",
    Category.POLICY: "重写活动规则说明，统一客服解释口径。",
    Category.OTHER: "修正系统配置，上线前增加复核环节。",
}
MEASURES: dict[Demand, str] = {
    Demand.REFUND: "为客户办理全额退款，原路退回。",
    Demand.EXCHANGE: "免费换新{product}，上门取旧送新。",
    Demand.REPAIR: "安排工程师48小时内上门免费维修。",
    Demand.APOLOGY: "由部门主管致电客户正式道歉。",
    Demand.COMPENSATION: "向客户致歉并给予补偿。",
    Demand.IMPROVE_SERVICE: "向客户说明整改措施并致歉。",
    Demand.EXPLANATION: "由专人向客户详细解释相关规则。",
}
COMPENSATIONS: tuple[str, ...] = ("50元优惠券", "100元优惠券", "200元现金补偿", "会员积分2000分")
PROGRESS_NOTES: dict[Demand, str] = {
    Demand.REFUND: "退款已原路退回，客户确认到账。",
    Demand.EXCHANGE: "新{product}已送达，旧件已取回。",
    Demand.REPAIR: "工程师已上门维修完毕，试机正常。",
    Demand.APOLOGY: "主管已致电客户道歉，客户接受。",
    Demand.COMPENSATION: "补偿已发放到客户账户。",
    Demand.IMPROVE_SERVICE: "整改措施已落实，已告知客户。",
    Demand.EXPLANATION: "已向客户详细解释规则，客户表示理解。",
}
SURVEY_COMMENTS: tuple[str | None, ...] = (
    None, "处理得挺快，满意。", "态度很好，问题解决了。", "希望以后不要再出现类似问题。",
)
# fmt: on

# Scope sets the handling time limit: bigger cases need wider coordination.
SCOPES: dict[Severity, tuple[Scope, ...]] = {
    Severity.GENERAL: (Scope.DEPARTMENT,),
    Severity.SERIOUS: (Scope.DEPARTMENT, Scope.DEPARTMENT, Scope.CITY),
    Severity.MAJOR: (Scope.CITY, Scope.PREFECTURE),
}


@dataclass(frozen=True, slots=True)
class _Weighted:
    """A weighted table with its cumulative weights computed once (hot loop)."""

    values: tuple[Any, ...]
    cum_weights: tuple[int, ...]

    @classmethod
    def of(cls, weights: dict[Any, int]) -> _Weighted:
        return cls(tuple(weights), tuple(itertools.accumulate(weights.values())))

    def pick(self, rng: random.Random) -> Any:
        return rng.choices(self.values, cum_weights=self.cum_weights)[0]


_CHANNELS = _Weighted.of(CHANNEL_WEIGHTS)
_CATEGORIES = _Weighted.of(CATEGORY_WEIGHTS)
_SEVERITIES = _Weighted.of(SEVERITY_WEIGHTS)
_DEMANDS = {category: _Weighted.of(weights) for category, weights in DEMAND_WEIGHTS.items()}


@dataclass(frozen=True, slots=True)
class _Customer:
    """Who complained about what: reused as a whole for repeat complaints."""

    name: str
    phone: str | None
    email: str | None
    category: Category
    product: str


def iter_complaints(
    count: int, *, seed: int, now: datetime, spread: timedelta = timedelta(days=30)
) -> Iterator[ComplaintIn]:
    """Yield ``count`` complaints lazily, received in order over ``[now - spread, now]``.

    Lazy so a benchmark can stream a million rows without holding them. Arguments are
    checked here, eagerly, rather than on the first ``next()``.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    if spread <= timedelta(0):
        raise ValueError("spread must be positive")
    return _complaints(count, random.Random(seed), now.astimezone(SHANGHAI), spread)


def generate_complaints(
    count: int, *, seed: int, now: datetime, spread: timedelta = timedelta(days=30)
) -> list[ComplaintIn]:
    """All of :func:`iter_complaints` at once, for the demo and the tests."""
    return list(iter_complaints(count, seed=seed, now=now, spread=spread))


def _complaints(
    count: int, rng: random.Random, now: datetime, spread: timedelta
) -> Iterator[ComplaintIn]:
    start = now - spread
    spread_seconds = spread.total_seconds()
    recent: list[_Customer] = []
    for index in range(count):
        # Stratified: the i-th complaint lands in the i-th slice of the window, so the
        # stream arrives in time order and covers the window evenly for any count.
        offset = spread_seconds * (index + rng.random()) / count
        received_at = start + timedelta(seconds=int(offset))
        if recent and rng.random() < REPEAT_RATE:
            customer = rng.choice(recent)
        else:
            customer = _new_customer(rng)
            if len(recent) < REPEAT_POOL_SIZE:
                recent.append(customer)
            else:
                recent[index % REPEAT_POOL_SIZE] = customer
        yield _complaint(rng, index, customer, received_at)


def _new_customer(rng: random.Random) -> _Customer:
    surname, surname_pinyin = rng.choice(SURNAMES)
    given, given_pinyin = rng.choice(GIVEN_NAMES)
    category: Category = _CATEGORIES.pick(rng)
    roll = rng.random()  # 75 % phone only, 17 % phone and e-mail, 8 % e-mail only
    phone = None if roll >= 0.92 else rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
    email = None
    if roll >= 0.75:
        local = f"{surname_pinyin}.{given_pinyin}{rng.randrange(1, 1000)}"
        email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
    return _Customer(
        name=surname + given,
        phone=phone,
        email=email,
        category=category,
        product=rng.choice(PRODUCTS[category]),
    )


def _complaint(
    rng: random.Random, index: int, customer: _Customer, received_at: datetime
) -> ComplaintIn:
    channel: Channel = _CHANNELS.pick(rng)
    category = customer.category
    severity: Severity = _SEVERITIES.pick(rng)
    demand: Demand = _DEMANDS[category].pick(rng)
    days = rng.choice(DAY_CHOICES)
    slots = {
        "product": customer.product,
        "days": CHINESE_DAYS[days],
        "hours": CHINESE_DAYS[rng.choice(HOUR_CHOICES)],
        "amount": rng.choice(AMOUNTS),
    }
    sentence = rng.choice(DESCRIPTIONS[category]).format(**slots)
    remark = rng.choice(REMARKS[severity])
    description = f"{sentence}。{remark}" if remark else f"{sentence}。"

    occurred_at = None
    if rng.random() < OCCURRED_AT_RATE:
        occurred_at = received_at - timedelta(days=days, minutes=rng.randrange(60, 24 * 60))
    order_date = (occurred_at or received_at - timedelta(days=days)).strftime("%Y%m%d")
    order_no = None
    if rng.random() < ORDER_NO_RATE:
        order_no = f"DD{order_date}{rng.randrange(100000):05d}"
    demand_detail = None
    if rng.random() < DEMAND_DETAIL_RATE:
        demand_detail = rng.choice(DEMAND_DETAILS[demand]).format(**slots)
    on_spot_answer = None
    if rng.random() < ON_SPOT_RATE:
        on_spot_answer = rng.choice(ON_SPOT_ANSWERS[category])

    return ComplaintIn(
        channel=channel,
        external_ref=f"{CHANNEL_REF_PREFIX[channel]}-{received_at:%Y%m%d}-{index + 1:06d}",
        customer_name=customer.name,
        customer_phone=customer.phone,
        customer_email=customer.email,
        description=description,
        demand=demand,
        demand_detail=demand_detail,
        product=customer.product,
        order_no=order_no,
        occurred_at=occurred_at,
        received_at=received_at,
        severity=severity,
        category=category,
        receiver=rng.choice(RECEIVERS),
        answered_on_spot=on_spot_answer is not None,
        on_spot_answer=on_spot_answer,
    )


def decisions_for(complaint: ComplaintIn, *, seed: int, now: datetime) -> dict[str, dict[str, Any]]:
    """Plausible form inputs for every human step, keyed by step name, JSON-ready.

    The happy path: substantiated, approved, done, and a satisfied customer, so a demo or
    benchmark can drive a case from registration to closing. Seeded by ``seed`` and the
    complaint's content, so each complaint gets its own but reproducible handlers.
    """
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    rng = random.Random(f"{seed}:{complaint.fingerprint()}")
    category = complaint.category or Category.OTHER
    department = DEFAULT_ROUTING[category]
    handler = rng.choice(HANDLERS[department])
    slots = {"product": complaint.product or "产品"}
    deadline = (now.astimezone(SHANGHAI) + timedelta(days=rng.randint(2, 7))).replace(
        hour=18, minute=0, second=0, microsecond=0
    )
    method = FeedbackMethod.PHONE if complaint.customer_phone else FeedbackMethod.EMAIL
    compensation = None
    if complaint.demand in (Demand.COMPENSATION, Demand.REFUND) or rng.random() < 0.3:
        compensation = rng.choice(COMPENSATIONS)
    approval = {"actor": rng.choice(APPROVERS), "approved": True, "reason": "同意。"}

    return {
        Step.VERIFY.value: {
            "actor": handler,
            "substantiated": True,
            "findings": FINDINGS[category].format(**slots),
            "confirmed_demand": complaint.demand.value,
            "evidence": EVIDENCE[category],
        },
        Step.GRADE.value: {
            "actor": rng.choice(GRADERS),
            "category": category.value,
            "severity": complaint.severity.value,
            "scope": rng.choice(SCOPES[complaint.severity]).value,
            "department": department.value,
            "basis": f"核实情况：{FINDINGS[category].format(**slots)}",
            "reason": f"按{category.value}类投诉处理，影响程度为{complaint.severity.value}。",
        },
        Step.APPROVE_GRADE.value: dict(approval),
        Step.PLAN.value: {
            "actor": handler,
            "measures": MEASURES[complaint.demand].format(**slots),
            "compensation": compensation,
            "owner": handler,
            "deadline": deadline.isoformat(),
            "root_cause": ROOT_CAUSES[category],
            "attributed_department": department.value,
            "improvement": IMPROVEMENTS[category],
        },
        Step.APPROVE_PLAN.value: {**approval, "actor": rng.choice(APPROVERS)},
        Step.EXECUTE.value: {
            "actor": handler,
            "kind": ProgressKind.DONE.value,
            "note": PROGRESS_NOTES[complaint.demand].format(**slots),
        },
        Step.FEEDBACK.value: {
            "actor": handler,
            "result": PROGRESS_NOTES[complaint.demand].format(**slots),
            "method": method.value,
        },
        Step.CALLBACK.value: {
            "actor": rng.choice(CALLBACK_AGENTS),
            "efficiency": rng.randint(4, 5),
            "resolution": rng.randint(4, 5),
            "attitude": rng.randint(4, 5),
            "fairness": rng.randint(4, 5),
            "accepts_result": True,
            "comment": rng.choice(SURVEY_COMMENTS),
        },
    }
