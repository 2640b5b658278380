"""Which Jiangmen county-level bureau handles a complaint (Art. 12).

Jurisdiction follows the respondent's place of business. We recognise the
seven county-level units, their common short names, and their towns and
sub-districts, so 会城 or 沙坪 resolve without asking. A name that belongs to
two units (白沙 is a 街道 in 蓬江 and a 镇 in 台山) is *ambiguous* and the
form asks. E-commerce platforms are recognised separately: Art. 12 sends a
platform complaint to the platform's domicile, and a complaint about a shop on
a platform to the shop's actual place of business or the platform's domicile.
"""

from __future__ import annotations

import re

from bot.actions.parsing.text import normalise

COUNTIES: tuple[str, ...] = ("蓬江区", "江海区", "新会区", "台山市", "开平市", "鹤山市", "恩平市")

# Towns and sub-districts (镇/街道) per county-level unit, with the unit's short name.
_PLACES: dict[str, tuple[str, ...]] = {
    "蓬江区": (
        "蓬江",
        "环市",
        "潮连",
        "北街",
        "堤东",
        "仓后",
        "荷塘",
        "杜阮",
        "棠下",
        "江门五邑大学",
    ),
    "江海区": ("江海", "江南街道", "外海", "礼乐", "高新区", "滘头", "滘北"),
    "新会区": (
        "新会",
        "会城",
        "大泽",
        "司前",
        "罗坑",
        "双水",
        "崖门",
        "沙堆",
        "古井",
        "三江",
        "睦洲",
        "大鳌",
        "今古洲",
    ),
    "台山市": (
        "台山",
        "台城",
        "大江镇",
        "水步",
        "四九",
        "三合镇",
        "冲蒌",
        "斗山",
        "都斛",
        "赤溪",
        "端芬",
        "广海",
        "海宴",
        "汶村",
        "深井",
        "北陡",
        "川岛",
        "上川",
        "下川",
    ),
    "开平市": (
        "开平",
        "长沙街道",
        "三埠",
        "月山",
        "水口镇",
        "沙塘",
        "苍城",
        "龙胜",
        "大沙镇",
        "马冈",
        "塘口",
        "赤坎",
        "百合镇",
        "蚬冈",
        "金鸡",
        "赤水镇",
    ),
    "鹤山市": (
        "鹤山",
        "沙坪",
        "雅瑶",
        "古劳",
        "桃源镇",
        "鹤城",
        "共和镇",
        "址山",
        "宅梧",
        "双合",
        "龙口镇",
    ),
    "恩平市": (
        "恩平",
        "恩城",
        "横陂",
        "圣堂",
        "良西",
        "沙湖",
        "牛江",
        "君堂",
        "大槐",
        "东成镇",
        "大田镇",
        "那吉",
    ),
}
# Names shared by two units: a hint, never a decision.
_AMBIGUOUS: dict[str, tuple[str, ...]] = {"白沙": ("蓬江区", "台山市")}

# Well-known places outside Jiangmen: the respondent is out of this bureau's area.
_ELSEWHERE = re.compile(
    r"广州|深圳|佛山|珠海|中山|东莞|惠州|肇庆|阳江|茂名|湛江|清远|韶关|河源|梅州|汕头|汕尾|潮州|揭阳|云浮|"
    r"北京|上海|天津|重庆|杭州|南京|苏州|武汉|成都|西安|长沙市|厦门|福州|香港|澳门|台湾|"
    r"浙江|江苏|福建|湖南|湖北|河南|河北|山东|山西|四川|广西|海南|江西|安徽|云南|贵州|陕西|辽宁|吉林|黑龙江"
)

# Platform names users mention; the value is the canonical name we store.
PLATFORMS: dict[str, str] = {
    "淘宝": "淘宝",
    "天猫": "天猫",
    "京东": "京东",
    "拼多多": "拼多多",
    "抖音": "抖音",
    "快手": "快手",
    "美团": "美团",
    "饿了么": "饿了么",
    "唯品会": "唯品会",
    "苏宁易购": "苏宁易购",
    "闲鱼": "闲鱼",
    "小红书": "小红书",
    "微店": "微店",
    "得物": "得物",
    "携程": "携程",
    "去哪儿": "去哪儿",
    "飞猪": "飞猪",
    "大众点评": "大众点评",
    "1688": "1688",
}
_ONLINE_HINT = re.compile(
    r"网上|网购|网店|直播间|直播带货|小程序|公众号|app|APP|App|线上|平台|官网|外卖"
)


def county_candidates(text: str | None) -> set[str]:
    """Every county-level unit the text points at (empty if none)."""
    t = normalise(text)
    found: set[str] = set()
    for county in COUNTIES:
        if county in t:
            found.add(county)
    for county, places in _PLACES.items():
        if any(place in t for place in places):
            found.add(county)
    for place, counties in _AMBIGUOUS.items():
        if place in t and not found:
            found.update(counties)
    return found


def find_county(text: str | None) -> str | None:
    """The county-level unit when the text names exactly one, else ``None``."""
    candidates = county_candidates(text)
    return next(iter(candidates)) if len(candidates) == 1 else None


def is_outside_jiangmen(text: str | None) -> bool:
    """True when the address names somewhere outside Jiangmen and no Jiangmen unit."""
    t = normalise(text)
    return bool(_ELSEWHERE.search(t)) and not county_candidates(t) and "江门" not in t


def find_platform(text: str | None) -> str | None:
    """The e-commerce platform named in the text (淘宝, 京东 …), if any."""
    t = normalise(text)
    for name, canonical in PLATFORMS.items():
        if name in t:
            return canonical
    return None


def mentions_online_purchase(text: str | None) -> bool:
    """网购, 直播间, 小程序 … without necessarily naming a platform."""
    t = normalise(text)
    return bool(find_platform(t) or _ONLINE_HINT.search(t))
