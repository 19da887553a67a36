"""Generated customers with planted duplicates, for measuring de-duplication and screen pop.

Every record knows the real person (``entity``) it belongs to, so precision and recall of
the duplicate finder can be measured. Planted duplicates copy a person with the changes seen
in real service-desk data: the phone written another way, a homophone typed for a name
character, the name in traditional characters, the address written another way. Hard
negatives are planted too: family members sharing a landline and an address, and namesakes
(same name, same city, different address and phone).

The generator is deterministic for a given seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

import opencc

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力鹏飞宇浩凯"
# Homophones an agent's pinyin input method offers for the same syllable.
HOMOPHONES = {
    "伟": "玮炜",
    "芳": "方",
    "娜": "纳",
    "敏": "民",
    "静": "婧",
    "丽": "莉",
    "强": "蔷",
    "磊": "垒",
    "军": "君",
    "洋": "阳",
    "勇": "永",
    "艳": "燕",
    "杰": "洁",
    "涛": "滔",
    "明": "鸣",
    "超": "潮",
    "霞": "侠",
    "平": "萍",
    "刚": "钢",
    "华": "桦",
    "红": "虹",
    "文": "雯",
    "辉": "晖",
    "飞": "菲",
    "宇": "雨",
    "浩": "昊",
}
CITIES = {
    "北京市": ("010", ("朝阳区", "海淀区", "东城区", "丰台区")),
    "上海市": ("021", ("浦东新区", "徐汇区", "静安区", "闵行区")),
    "广州市": ("020", ("天河区", "越秀区", "海珠区", "白云区")),
    "杭州市": ("0571", ("西湖区", "上城区", "拱墅区", "滨江区")),
    "成都市": ("028", ("武侯区", "锦江区", "青羊区", "成华区")),
    "武汉市": ("027", ("江汉区", "武昌区", "洪山区", "汉阳区")),
}
ROADS = tuple(
    "建国路人民路解放路中山路和平路长江路黄河路新华路文化路光明路"[i : i + 3]
    for i in range(0, 30, 3)
)
MOBILE_PREFIXES = ("138", "139", "137", "150", "151", "186", "187", "133", "177", "199")


@dataclass
class SyntheticCustomer:
    """One generated customer record and the real person behind it."""

    id: int
    entity: int
    name: str
    phones: list[str]
    emails: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    variant: str = "original"


class CustomerGenerator:
    """Generate customers; ``duplicate_share`` of people get a second, altered record.

    >>> people = list(CustomerGenerator(seed=1).generate(100))
    >>> len(people) > 100, len({p.id for p in people}) == len(people)
    (True, True)
    """

    def __init__(self, *, seed: int = 7, duplicate_share: float = 0.1, family_share: float = 0.05):
        self.rng = random.Random(seed)
        self.duplicate_share = duplicate_share
        self.family_share = family_share
        self._traditional = opencc.OpenCC("s2t")
        self._next_id = 0
        self._used_mobiles: set[str] = set()

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def mobile(self) -> str:
        """A new 11-digit mobile number never handed out before by this generator."""
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self._used_mobiles:
                self._used_mobiles.add(number)
                return number

    def _address(self) -> tuple[str, str, str]:
        city = self.rng.choice(list(CITIES))
        area, districts = CITIES[city]
        district = self.rng.choice(districts)
        road = self.rng.choice(ROADS)
        number = self.rng.randrange(1, 300)
        room = f"{self.rng.randrange(1, 30)}{self.rng.randrange(1, 5):02d}"
        return f"{city}{district}{road}{number}号{room}室", area, city

    def _name(self) -> str:
        given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 1, 2))))
        return self.rng.choice(SURNAMES) + given

    def generate(self, people: int) -> Iterator[SyntheticCustomer]:
        """Yield records for ``people`` distinct persons plus planted duplicates and negatives."""
        rng = self.rng
        for entity in range(people):
            name = self._name()
            mobile = self.mobile()
            address, area, city = self._address()
            landline = f"0{area.lstrip('0')}-{rng.randrange(2, 9)}{rng.randrange(10**7):07d}"
            emails = [f"u{entity}@example.cn"] if rng.random() < 0.3 else []
            phones = [mobile] + ([landline] if rng.random() < 0.4 else [])
            original = SyntheticCustomer(self._id(), entity, name, phones, emails, [address])
            yield original
            if rng.random() < self.duplicate_share:
                yield self._duplicate(original, landline, city)
            if rng.random() < self.family_share:
                yield self._family_member(original, landline, people + entity)
                if rng.random() < 0.5:
                    yield self._namesake(original, city, 2 * people + entity)

    def _duplicate(self, person: SyntheticCustomer, landline: str, city: str) -> SyntheticCustomer:
        rng = self.rng
        variant = rng.choice(
            ("format", "homophone", "traditional", "address", "email", "homophone_moved")
        )
        mobile = person.phones[0]
        name, phones = person.name, [_reformat(mobile, rng)]
        emails: list[str] = []
        addresses: list[str] = []
        if variant == "homophone":
            name = _homophone(name, rng)
        elif variant == "traditional":
            name = self._traditional.convert(name)
            phones = [self.mobile()]
            addresses = [_address_variant(person.addresses[0], city, rng)]
        elif variant == "homophone_moved":
            # The hardest case: a mistyped name, a new phone, the address written differently.
            name = _homophone(name, rng)
            phones = [self.mobile()]
            addresses = [_address_variant(person.addresses[0], city, rng)]
        elif variant == "address":
            phones = [landline, self.mobile()]
            addresses = [_address_variant(person.addresses[0], city, rng)]
        elif variant == "email":
            if person.emails:
                phones = [self.mobile()]
                emails = list(person.emails)
            else:
                variant = "format"
        return SyntheticCustomer(
            self._id(), person.entity, name, phones, emails, addresses, variant
        )

    def _family_member(
        self, person: SyntheticCustomer, landline: str, entity: int
    ) -> SyntheticCustomer:
        surname = person.name[0]
        while True:
            name = surname + self.rng.choice(GIVEN)
            if name != person.name:
                break
        return SyntheticCustomer(
            self._id(),
            entity,
            name,
            [landline, self.mobile()],
            [],
            list(person.addresses),
            "family",
        )

    def _namesake(self, person: SyntheticCustomer, city: str, entity: int) -> SyntheticCustomer:
        address, _, _ = self._address()
        while not address.startswith(city):
            address, _, _ = self._address()
        return SyntheticCustomer(
            self._id(), entity, person.name, [self.mobile()], [], [address], "namesake"
        )


def _reformat(mobile: str, rng: random.Random) -> str:
    return rng.choice(
        (
            f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
            f"0086{mobile}",
            f"0{mobile}",
            f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}",
            mobile,
        )
    )


def _homophone(name: str, rng: random.Random) -> str:
    positions = [i for i, ch in enumerate(name) if ch in HOMOPHONES and i > 0]
    if not positions:
        return name
    i = rng.choice(positions)
    return name[:i] + rng.choice(HOMOPHONES[name[i]]) + name[i + 1 :]


def _address_variant(address: str, city: str, rng: random.Random) -> str:
    choice = rng.randrange(3)
    if choice == 0:
        return address.removeprefix(city)  # the city left out
    if choice == 1:
        return address.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return address.replace("号", "号院", 1).replace("室", "")
