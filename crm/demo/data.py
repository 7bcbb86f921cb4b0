"""Realistic Chinese and English names, phones and addresses for demo data (and the benchmark)."""

import random

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞",
         "平", "刚", "桂英", "建华", "文", "华", "玉兰", "红", "志强", "晓东", "海燕", "子涵", "欣怡", "浩然", "梓轩", "雨桐", "宇航", "思远", "佳怡", "俊杰"]
EN_FIRST = ["James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William",
            "Susan", "Richard", "Jessica", "Thomas", "Sarah", "Daniel", "Karen", "Matthew", "Emma", "Oliver", "Sophie", "Lukas", "Anna"]
EN_LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Moore",
           "Martin", "Clark", "Lewis", "Walker", "Young", "Müller", "Schmidt", "Dubois", "Rossi", "Tanaka", "Kim"]

CITIES = [  # province, city, districts, postcode prefix, area code
    ("上海市", "上海", ["浦东新区", "徐汇区", "静安区", "闵行区", "长宁区"], "200", "021"),
    ("北京市", "北京", ["朝阳区", "海淀区", "东城区", "西城区", "丰台区"], "100", "010"),
    ("广东省", "广州", ["天河区", "越秀区", "海珠区", "番禺区", "白云区"], "510", "020"),
    ("广东省", "深圳", ["南山区", "福田区", "宝安区", "龙岗区", "罗湖区"], "518", "0755"),
    ("浙江省", "杭州", ["西湖区", "滨江区", "余杭区", "上城区", "拱墅区"], "310", "0571"),
    ("江苏省", "南京", ["鼓楼区", "玄武区", "建邺区", "江宁区", "秦淮区"], "210", "025"),
    ("江苏省", "苏州", ["工业园区", "姑苏区", "吴中区", "相城区", "虎丘区"], "215", "0512"),
    ("四川省", "成都", ["武侯区", "锦江区", "高新区", "青羊区", "成华区"], "610", "028"),
    ("湖北省", "武汉", ["江汉区", "武昌区", "洪山区", "汉阳区", "江岸区"], "430", "027"),
    ("福建省", "厦门", ["思明区", "湖里区", "集美区", "海沧区", "同安区"], "361", "0592"),
]
ROADS = ["南京西路", "淮海中路", "世纪大道", "中山路", "人民路", "解放路", "建设路", "长江路", "科技园路", "天府大道", "滨江大道", "文三路"]
PLACE = ["华", "盛", "鑫", "达", "远", "泰", "恒", "瑞", "嘉", "宏", "锦", "博", "创", "新", "联", "海", "天", "中", "东", "金"]
TRADE = [("科技", "it"), ("信息技术", "it"), ("软件", "it"), ("电子", "manufacturing"), ("机械制造", "manufacturing"),
         ("新材料", "manufacturing"), ("贸易", "retail"), ("商贸", "retail"), ("医疗器械", "healthcare"), ("生物医药", "healthcare"),
         ("物流", "logistics"), ("供应链管理", "logistics"), ("建筑工程", "construction"), ("置业", "construction"),
         ("教育科技", "education"), ("能源", "energy"), ("咨询", "services"), ("金融服务", "finance")]
SUFFIX = ["有限公司", "股份有限公司", "集团有限公司"]
EN_WORDS = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Pioneer", "Summit", "Atlas", "Nova", "Vertex",
            "Harbor", "Everest", "Blue Ocean", "Silverline", "Northwind", "Redwood", "Brightstar"]
EN_TRADE = [("Technologies", "it"), ("Software", "it"), ("Trading", "retail"), ("Logistics", "logistics"),
            ("Medical", "healthcare"), ("Industries", "manufacturing"), ("Energy", "energy"), ("Consulting", "services")]
EN_SUFFIX = ["Ltd", "Inc.", "GmbH", "Co., Ltd", "LLC"]
TITLES = ["总经理", "副总经理", "采购经理", "财务总监", "技术总监", "IT经理", "行政主管", "销售总监", "项目经理", "工程师"]
EN_TITLES = ["CEO", "CFO", "Purchasing Manager", "IT Director", "Operations Manager", "Project Manager", "Engineer"]
DEPTS = ["总经办", "采购部", "财务部", "技术部", "信息中心", "行政部", "市场部", "生产部"]
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "158", "159",
                   "166", "176", "177", "180", "181", "186", "187", "188", "189", "199"]
US_AREA = ["212", "415", "312", "617", "206", "303"]


def chinese_person(rng: random.Random):
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def english_person(rng: random.Random):
    return f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"


def mobile(rng: random.Random):
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def landline(rng: random.Random, area):
    digits = 7 if area == "0592" else 8
    return area + str(rng.randrange(2, 9)) + f"{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"


def us_phone(rng: random.Random):
    return f"+1{rng.choice(US_AREA)}555{rng.randrange(100, 200):04d}"


def chinese_company(rng: random.Random):
    province, city, districts, postcode, area = rng.choice(CITIES)
    trade, industry = rng.choice(TRADE)
    name = f"{city}{rng.choice(PLACE)}{rng.choice(PLACE)}{trade}{rng.choice(SUFFIX)}"
    district = rng.choice(districts)
    return {
        "name": name, "industry": industry, "province": province, "city": city, "district": district,
        "address": f"{city}{district}{rng.choice(ROADS)}{rng.randrange(1, 2000)}号{rng.randrange(1, 30)}楼",
        "postcode": postcode + f"{rng.randrange(1000):03d}", "phone": landline(rng, area), "country": "中国",
        "website": "", "email": "",
    }


def english_company(rng: random.Random):
    trade, industry = rng.choice(EN_TRADE)
    word = rng.choice(EN_WORDS)
    name = f"{word} {trade} {rng.choice(EN_SUFFIX)}"
    slug = word.lower().replace(" ", "")
    province, city, districts, postcode, area = rng.choice(CITIES[:4])
    return {
        "name": name, "industry": industry, "province": province, "city": city, "district": rng.choice(districts),
        "address": f"{rng.randrange(1, 999)} {rng.choice(['Century Avenue', 'Nanjing Road', 'Zhongshan Road', 'Keji Road'])}",
        "postcode": postcode + f"{rng.randrange(1000):03d}", "phone": us_phone(rng) if rng.random() < 0.5 else landline(rng, area),
        "country": "中国", "website": f"https://www.{slug}.example.com", "email": f"info@{slug}.example.com",
    }


USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_code(rng: random.Random):
    from crm.core.fields import uscc_check_char

    body = "91" + f"{rng.randrange(110000, 659999)}" + "".join(rng.choice(USCC_CHARS) for _ in range(9))
    return body + uscc_check_char(body)


# --- Extra vocabulary for the benchmark (bench/). The demo does not use it, so what the demo
# produces is unchanged. ---

# Characters of company brand names (two of them make the brand: 华盛, 瑞丰, …); none whose
# pinyin initial depends on the word around it, so mnemonic codes can be cached per part.
BRAND = ("华盛鑫达远泰恒瑞嘉宏锦博创新联海天中东金安邦诚德丰富光国弘辉佳建杰捷景骏凯康兰力立隆茂美"
         "明铭宁鹏启荣森晟胜顺腾万维伟祥欣兴旭亚益永宇裕源跃云泽振正智卓")
NOTE_TEXTS = ["电话沟通了采购计划，下月初再跟进。", "拜访客户，演示了产品，客户对价格比较敏感。",
              "Sent the proposal; waiting for their feedback.", "客户要求提供报价单和案例材料。",
              "已发送合同草案，法务审核中。", "Call with purchasing: budget approved for Q3.",
              "客户反馈交付周期太长，需要协调生产。", "年会上见到了对方总经理，关系不错。"]
TAGS = ["重点跟进", "VIP", "老客户", "招投标", "战略合作", "价格敏感", "海外业务", "Referral"]


def valid_landline(rng: random.Random, area):
    """A fixed-line number phonenumbers accepts: like `landline`, but the local part never starts
    with 8 (in Shanghai and Beijing the 800… block is not a subscriber number, so `landline`
    now and then yields a number that fails validation)."""
    digits = 7 if area == "0592" else 8
    return area + str(rng.randrange(2, 8)) + f"{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"
