"""Fallback extraction of merchant, product and demand from free Chinese text.

DIET's entities come first; these patterns catch the common shapes it may
miss (在新会区的好又多超市买到过期牛奶), so one rich message can fill several
form slots at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.actions.parsing.text import normalise
from core.places import SHORT_NAMES

Demand = Literal["退货", "退款", "赔偿", "其他"]
DEMANDS: tuple[Demand, ...] = ("退货", "退款", "赔偿", "其他")

_SHOP_SUFFIX = (
    r"(?:超市|商场|商店|商行|百货|便利店|士多|小卖部|专卖店|旗舰店|门店|分店|店铺|网店|药店|药房|大药房|餐厅|饭店|酒楼|"
    r"酒家|茶楼|食肆|大排档|火锅店|奶茶店|面包店|蛋糕店|快餐店|烧腊店|理发店|美容院|美发店|健身房|健身中心|"
    r"培训机构|培训中心|教育中心|学校|诊所|口腔|医院|宾馆|酒店|旅馆|民宿|旅行社|4S店|车行|汽修厂|修理店|"
    r"维修店|手机店|电器行|家具店|装修公司|物业公司|公司|有限公司|厂|市场|菜市场|档口|摊位|加油站|影院|网吧|"
    r"KTV|店)"
)
# A county name before the shop (在新会区的好又多超市) is not part of the shop's name.
_COUNTY_SHORT = "|".join(map(re.escape, SHORT_NAMES))
_MERCHANT = re.compile(
    r"(?:在|去|到|从|向|跟|被|于|对|投诉|举报)?(?:(?:" + _COUNTY_SHORT + r")(?:区|市)?(?:的)?)?"
    r"(?P<name>[\u4e00-\u9fa5A-Za-z0-9·]{1,14}?" + _SHOP_SUFFIX + r")"
)
_STOP_PREFIX = re.compile(
    r"^(?:我|我们|要|想|投诉|举报|反映|在|去|到|从|家|附近的?|楼下的?|一间|一家|间|家|那家|那间|这家|这间|个|的)+"
)
# What is wrong with a product is the problem, never the product: 发霉的月饼 is 月饼,
# 买的牛奶过期了 is 牛奶. These words are cut off a product and end a product span.
DEFECT_WORDS = (
    r"(?:过期|临期|发霉|霉变|长霉|变质|变味|变酸|发酸|发臭|发黄|腐烂|烂掉|烂了|烂的|坏掉|坏了|坏的|"
    r"假的|假冒|假货|冒牌|山寨|翻新|二手|破损|破了|破的|碎了|有虫|生虫|长虫|漏水|漏电|漏气|冒烟|"
    r"开胶|掉色|褪色|缩水|臭了|臭的|不新鲜|劣质|三无|残次|次品|有问题|有质量问题|质量有问题|质量差|"
    r"有异物|有异味|有头发|不能用|用不了|不合格)"
)
_QUANTITY = (
    r"(?:[一两二三四五六七八九十几半\d]+|一)"
    r"(?:个|件|瓶|盒|包|台|部|双|份|袋|支|张|把|箱|斤|公斤|克|杯|碗|只|条|罐|桶|套|对|本|辆|副|顶|块|次|间|晚|单)"
)
_PRODUCT_END = (
    r"(?=[，。,.!！?？；;、]|" + DEFECT_WORDS + r"|是|竟然|居然|已经|全都|都|也|还|里面|里有|上面|"
    r"花了|花|付|共|一共|总共|价格|结果|但|可是|就|后|之后|以后|回来|回家|的时候|不到|没|吃了|喝了|用了|"
    r"装好|装上|安装|送来|送到|到手|拿回|刚|才|一[\u4e00-\u9fa5]{1,2}就|[两三几]天|过敏|吃出|喝出|发现|质量|$)"
)
_PRODUCT = re.compile(
    r"(?:买到|买了|买的|购买了?|订了|订的|点了|点的|充值了?|办了|办的|报了|吃到|喝到|用了|收到|收到的|"
    r"拿到|网购了?)"
    r"(?:" + _QUANTITY + r")?(?:一?[些点])?(?:的)?(?:" + DEFECT_WORDS + r"(?:了)?的?)*"
    r"(?P<product>[\u4e00-\u9fa5A-Za-z0-9]{1,14}?)" + _PRODUCT_END
)
# 这个包是假的 / 牛奶过期了 / 月饼发霉了: a short noun right before the defect.
_PRODUCT_BEFORE_DEFECT = re.compile(
    r"(?:^|(?<=[，。,.!！?？；;\s]))(?P<product>[\u4e00-\u9fa5A-Za-z0-9]{1,12}?)"
    r"(?:是|竟然是|居然是|竟然|居然|已经|全都|都|全)?" + DEFECT_WORDS
)
_DEFECT_PREFIX = re.compile(r"^(?:" + DEFECT_WORDS + r"(?:了)?(?:的)?)+")
_DEFECT_SUFFIX = re.compile(r"(?:(?:是|已经|都)?" + DEFECT_WORDS + r"(?:了|的)?)+$")
_LEADING_FILLER = re.compile(r"^(?:这个|那个|这些|那些|这|那|我的|我们的|买的|个|些|的)+")
# Too vague to store as the product: the form asks for it instead.
_GENERIC_PRODUCTS = frozenset(
    {"东西", "商品", "产品", "货", "货物", "物品", "嘢", "东东", "它", "这", "那"}
)
# Patterns per category. 退一赔三 asks for both: the price back (退一) and three times
# it as compensation (赔三).
_DEMAND_PATTERNS: tuple[tuple[Demand, re.Pattern[str]], ...] = (
    ("赔偿", re.compile(r"赔偿|赔钱|赔付|假一赔[三十]|[三十]倍|索赔|赔")),
    (
        "退款",
        re.compile(r"退款|退钱|退费|把钱退|返还|退回.{0,4}钱|还钱|退订金|退押金|退全款|退一(?=赔)"),
    ),
    ("退货", re.compile(r"退货|退掉|退了它|退回去|退回商品|退换")),
    ("其他", re.compile(r"换货|换一个|换个新|换新|更换|维修|修好|道歉|履行|补发|发货|其他|其它")),
)
# Vague asks (处理, 给个说法) name no remedy: they make 其他 only when nothing else is asked.
_VAGUE_OTHER = re.compile(r"整改|处理|处罚|解释|说法")
# Which category the ticket's single ``demand`` field gets when several are asked:
# the strongest claim, because it sets the scope of the mediation.
_STRENGTH: tuple[Demand, ...] = ("赔偿", "退款", "退货", "其他")
# Words around category names that add nothing (要求退款并赔偿 says only 退款 + 赔偿).
_DEMAND_FILLER = re.compile(
    r"我|要求|希望|想要|想|要|请|需要|商家|给我|并且|并|和|跟|及|以及|还有|还要|同时|加上|加|或者|或|、|，|,|。|!|！|\s"
)


@dataclass(frozen=True)
class DemandResult:
    """What the citizen asks for.

    ``categories`` lists every category in the order they were said (退款并赔偿 →
    退款, 赔偿); ``category`` is the one for the ticket API's single field;
    ``detail`` is the citizen's demand clause when it says more than the names.
    """

    category: Demand
    detail: str | None
    categories: tuple[Demand, ...] = ()


def find_merchant(text: str | None) -> str | None:
    """A shop-like name (好又多超市, 某某餐厅) in the text, without leading filler words."""
    t = normalise(text)
    for m in _MERCHANT.finditer(t):
        name = _STOP_PREFIX.sub("", m.group("name"))
        previous = None
        while previous != name:  # drop place words in front: 新会区的 / 万达广场的
            previous = name
            name = re.sub(
                r"^.*?(?:区|市|镇|街道|路|街|的|里|上)(?=[\u4e00-\u9fa5A-Za-z0-9]{2,})", "", name
            )
            name = _STOP_PREFIX.sub("", name)
        if len(name) >= 2 and not re.fullmatch(_SHOP_SUFFIX, name):
            return name
    return None


def clean_product(value: str | None) -> str | None:
    """A product name without its defect words or leading filler (发霉的月饼 → 月饼).

    DIET sometimes tags the defect itself (发霉) or the whole phrase (过期牛奶) as the
    product, so entity values go through this too; a value that is only a defect
    word, or too vague (东西), gives ``None``.
    """
    text = normalise(value).strip("，,。.！!？? ")
    previous = None
    while previous != text:
        previous = text
        text = re.sub(r"^" + _QUANTITY, "", text)
        text = _LEADING_FILLER.sub("", text)
        text = _DEFECT_PREFIX.sub("", text)
        text = _DEFECT_SUFFIX.sub("", text)
        text = text.strip("的了，, ")
    if not text or text in _GENERIC_PRODUCTS:
        return None
    return text


def mentions_defect(text: str | None) -> bool:
    """True when the text names what is wrong (过期, 发霉, 是假的 …)."""
    return bool(re.search(DEFECT_WORDS, normalise(text)))


def find_product(text: str | None) -> str | None:
    """The product or service in a complaint narrative, not its defect.

    买到/买了/点了/订了 + (quantity)? + (defect + 的)? + product (买到发霉的月饼 → 月饼,
    买了一台电饭煲 → 电饭煲), 买的X过期了 → X, and X是假的 / X过期了 → X.
    """
    # Cantonese particles read as their Mandarin equivalents (买咗啲过期嘅牛奶).
    t = normalise(text).replace("嘅", "的").replace("咗", "了").replace("啲", "些")
    for m in _PRODUCT.finditer(t):
        product = clean_product(m.group("product"))
        if product:
            return product
    for m in _PRODUCT_BEFORE_DEFECT.finditer(t):
        candidate = re.split(r"的|这个|那个|个", m.group("product"))[-1]
        product = clean_product(candidate)
        if product and not re.search(r"我|你|他|她|商家|老板|店|买|购", product):
            return product
    return None


def _demand_clause(text: str) -> str:
    """The parts of ``text`` (split at punctuation) that state a demand, joined again."""
    parts = [p for p in re.split(r"[，。,.!！?？；;\n]", text) if p.strip()]
    asked = [
        p
        for p in parts
        if any(pattern.search(p) for _, pattern in _DEMAND_PATTERNS) or _VAGUE_OTHER.search(p)
    ]
    return "，".join(asked) if asked else text


def parse_demand(text: str | None) -> DemandResult | None:
    """Map stated demands onto the ticket categories 退货 / 退款 / 赔偿 / 其他.

    Every category asked for is kept (退货退款 → 退货, 退款; 要求退一赔三 → 退款, 赔偿);
    the strongest is the primary (赔偿 over 退款 over 退货 over 其他). The demand
    clause is kept as the detail when it says more than the category names.
    """
    t = normalise(text)
    if not t:
        return None
    first_seen: dict[Demand, int] = {}
    for category, pattern in _DEMAND_PATTERNS:
        m = pattern.search(t)
        if m:
            first_seen[category] = m.start()
    if not first_seen and _VAGUE_OTHER.search(t):
        first_seen["其他"] = 0
    if not first_seen:
        return None
    categories = tuple(sorted(first_seen, key=lambda c: (first_seen[c], _STRENGTH.index(c))))
    primary = next(c for c in _STRENGTH if c in first_seen)
    clause = _demand_clause(t)
    leftover = _DEMAND_FILLER.sub("", clause)
    for name in categories:
        leftover = leftover.replace(name, "")
    return DemandResult(primary, clause if leftover else None, categories)
