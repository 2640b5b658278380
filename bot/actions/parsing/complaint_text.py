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

Demand = Literal["退货", "退款", "赔偿", "其他"]
DEMANDS: tuple[Demand, ...] = ("退货", "退款", "赔偿", "其他")

_SHOP_SUFFIX = (
    r"(?:超市|商场|商店|商行|百货|便利店|士多|小卖部|专卖店|旗舰店|门店|分店|店铺|网店|药店|药房|大药房|餐厅|饭店|酒楼|"
    r"酒家|茶楼|食肆|大排档|火锅店|奶茶店|面包店|蛋糕店|快餐店|烧腊店|理发店|美容院|美发店|健身房|健身中心|"
    r"培训机构|培训中心|教育中心|学校|诊所|口腔|医院|宾馆|酒店|旅馆|民宿|旅行社|4S店|车行|汽修厂|修理店|"
    r"维修店|手机店|电器行|家具店|装修公司|物业公司|公司|有限公司|厂|市场|菜市场|档口|摊位|加油站|影院|网吧|"
    r"KTV|店)"
)
_MERCHANT = re.compile(
    r"(?:在|去|到|从|向|跟|被|于|对|投诉|举报)?(?:(?:蓬江|江海|新会|台山|开平|鹤山|恩平)(?:区|市)?(?:的)?)?"
    r"(?P<name>[\u4e00-\u9fa5A-Za-z0-9·]{1,14}?" + _SHOP_SUFFIX + r")"
)
_STOP_PREFIX = re.compile(
    r"^(?:我|我们|要|想|投诉|举报|反映|在|去|到|从|家|附近的?|楼下的?|一间|一家|间|家|那家|那间|这家|这间|个|的)+"
)
_PRODUCT = re.compile(
    r"(?:买到|买了|买的|购买了?|订了|点了|充值了?|办了|报了|吃到|喝到|用了|收到)(?:一[个件瓶盒包台部双份袋支张把箱]|[两三四五六七八九十\d]+[个件瓶盒包台部双份袋支张把箱])?"
    r"(?:的)?(?P<product>[\u4e00-\u9fa5A-Za-z0-9]{1,12}?)(?=[，。,.!！?？；;]|花了|花|付|共|一共|总共|价格|结果|但|可是|就|后|之后|以后|$)"
)
_DEMAND_PATTERNS: tuple[tuple[Demand, re.Pattern[str]], ...] = (
    ("赔偿", re.compile(r"赔偿|赔钱|赔付|退一赔三|假一赔[三十]|[三十]倍|索赔|赔")),
    ("退款", re.compile(r"退款|退钱|退费|把钱退|返还|退回.{0,4}钱|还钱|退订金|退押金|退全款")),
    ("退货", re.compile(r"退货|退掉|退了它|退回去|退回商品|退换")),
    (
        "其他",
        re.compile(
            r"换货|换一个|更换|维修|修好|道歉|整改|处理|处罚|解释|说法|履行|补发|发货|其他|其它"
        ),
    ),
)


@dataclass(frozen=True)
class DemandResult:
    category: Demand
    detail: str | None


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


def find_product(text: str | None) -> str | None:
    """The product or service after 买到/买了/点了 … (过期牛奶, 一部手机 → 手机)."""
    t = normalise(text)
    m = _PRODUCT.search(t)
    if not m:
        return None
    product = m.group("product").strip("的了")
    return product or None


def parse_demand(text: str | None) -> DemandResult | None:
    """Map a stated demand onto the ticket categories 退货 / 退款 / 赔偿 / 其他.

    Strongest claim wins (赔偿 over 退款 over 退货); the user's own words are
    kept as the detail when they say more than the category name.
    """
    t = normalise(text)
    if not t:
        return None
    for category, pattern in _DEMAND_PATTERNS:
        if pattern.search(t):
            detail = t if t.strip("。.!！ ") != category else None
            return DemandResult(category, detail)
    return None
