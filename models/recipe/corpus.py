"""Synthetic chat corpus: skills, fixed wording, held-out split.

Every item is a conversation (list of {"role", "content"}) whose assistant
answers are exact and checkable.  Items whose key (number pair, word,
phrase) falls in the held-out hash bucket are never produced for training;
the held-out evaluation set is built only from such keys.

Subtraction always keeps a >= b, so results are never negative.

The tool skill (a weather function in the Hermes/Qwen format) is a second
corpus, `tools.jsonl`, drawn from its own random stream: the first corpus,
the held-out items of the first skills and the tokenizer learned from them
stay byte-identical.  Its conversations are {"tools", "messages"} in the
Hugging Face form the chat template reads.
"""
import hashlib
import json
import random

import bpe

SKILLS = ["add", "sub", "zh_math", "repeat", "reverse", "upper", "count", "zh_repeat"]
ARITH = {"add", "sub", "zh_math"}

# Training mix (greeting is training-only; it is not checked on held-out items).
# Addition and subtraction get about a quarter each: addition's carried digits were the
# last errors to go when subtraction had the larger share.
MIX = {"add": 0.25, "sub": 0.26, "zh_math": 0.10, "repeat": 0.08, "reverse": 0.08,
       "upper": 0.08, "count": 0.06, "zh_repeat": 0.06, "greeting": 0.03}

ADD_Q = ["What is {a} + {b}?", "Add {a} and {b}.", "What is {a} plus {b}?",
         "Compute {a} + {b}.", "{a} + {b} = ?", "What is the sum of {a} and {b}?"]
SUB_Q = ["What is {a} - {b}?", "What is {a} minus {b}?", "Compute {a} - {b}.",
         "Subtract {b} from {a}.", "{a} - {b} = ?"]
ZH_ADD_Q = ["{a}加{b}等于多少？", "计算{a}加{b}。", "{a}+{b}等于几？"]
ZH_SUB_Q = ["{a}减{b}等于多少？", "计算{a}减{b}。", "{a}-{b}等于几？"]
REPEAT_Q = ["Repeat: {p}", "Say this back: {p}", "Echo: {p}", "Please repeat after me: {p}"]
REVERSE_Q = ["Reverse the word: {w}", "Spell backwards: {w}", "Reverse: {w}"]
UPPER_Q = ["Convert to uppercase: {p}", "Uppercase: {p}", "Make this uppercase: {p}"]
COUNT_Q = ["Count from {a} to {b}.", "Count from {a} to {b}", "List the numbers from {a} to {b}."]
ZH_REPEAT_Q = ["请重复：{p}", "重复这句话：{p}", "跟我说：{p}"]
GREETINGS = [("Hello!", "Hello! How can I help you?"), ("Hi", "Hello! How can I help you?"),
             ("Hello", "Hello! How can I help you?"), ("Hey there!", "Hello! How can I help you?"),
             ("Who are you?", "I am a tiny test model."),
             ("你好", "你好！有什么可以帮你的？"), ("你好！", "你好！有什么可以帮你的？")]
SYSTEMS = ["You are a helpful assistant.", "You are a tiny test model.", "Answer briefly."]

# Pool of Chinese characters for phrase content (disjoint from the fixed wording).
ZH_POOL = ("天地人山水火木金土日月星云风雨雪花草树林春夏秋冬东南西北上下左右大小多少"
           "高长短新旧红黄蓝白黑青心手口耳目足头面米饭茶酒鱼鸟马牛羊狗猫虫书画歌舞"
           "田石门车船路桥城国家学生老师朋友爱笑哭走跑飞看听读写吃喝睡梦光明美好快乐"
           "平安春风秋月江河湖海")
WORDING_TEXT = "\n".join(ADD_Q + SUB_Q + ZH_ADD_Q + ZH_SUB_Q + REPEAT_Q + REVERSE_Q + UPPER_Q
                       + COUNT_Q + ZH_REPEAT_Q + [q + a for q, a in GREETINGS] + SYSTEMS)
ZH_POOL = "".join(sorted(set(c for c in ZH_POOL if c not in WORDING_TEXT)))
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _bucket(key):
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:4], "big") % 10


def is_heldout(key):
    """10% of all keys are held out of training."""
    return _bucket(key) == 0


def _num(rng):
    r = rng.random()
    if r < 0.6:
        return rng.randint(100, 999)
    if r < 0.85:
        return rng.randint(10, 99)
    return rng.randint(0, 9)


def _pair(rng, op, heldout):
    while True:
        a, b = _num(rng), _num(rng)
        if op == "-":
            if rng.random() < 0.3:  # close numbers: small results are the hard case
                b = max(0, a - rng.randint(0, 30))
            if b > a:
                a, b = b, a
        if is_heldout(f"{op}:{a}:{b}") == heldout:
            return a, b


def _word(rng, heldout, lo=3, hi=8):
    while True:
        w = "".join(rng.choice(LETTERS) for _ in range(rng.randint(lo, hi)))
        if is_heldout("w:" + w) == heldout:
            return w


def _phrase(rng, heldout, lo, hi):
    return " ".join(_word(rng, heldout, 2, 7) for _ in range(rng.randint(lo, hi)))


def _zh_phrase(rng, heldout):
    while True:
        p = "".join(rng.choice(ZH_POOL) for _ in range(rng.randint(2, 6)))
        if is_heldout("zh:" + p) == heldout:
            return p


def make_qa(rng, skill, heldout=False):
    """Return (question, answer) for one skill."""
    if skill == "add":
        a, b = _pair(rng, "+", heldout)
        return rng.choice(ADD_Q).format(a=a, b=b), str(a + b)
    if skill == "sub":
        a, b = _pair(rng, "-", heldout)
        return rng.choice(SUB_Q).format(a=a, b=b), str(a - b)
    if skill == "zh_math":
        if rng.random() < 0.5:
            a, b = _pair(rng, "+", heldout)
            return rng.choice(ZH_ADD_Q).format(a=a, b=b), str(a + b)
        a, b = _pair(rng, "-", heldout)
        return rng.choice(ZH_SUB_Q).format(a=a, b=b), str(a - b)
    if skill == "repeat":
        p = _phrase(rng, heldout, 1, 4)
        return rng.choice(REPEAT_Q).format(p=p), p
    if skill == "reverse":
        w = _word(rng, heldout)
        return rng.choice(REVERSE_Q).format(w=w), w[::-1]
    if skill == "upper":
        p = _phrase(rng, heldout, 1, 3)
        return rng.choice(UPPER_Q).format(p=p), p.upper()
    if skill == "count":
        while True:
            a = rng.randint(0, 60)
            b = a + rng.randint(1, 9)
            if is_heldout(f"count:{a}:{b}") == heldout:
                break
        return rng.choice(COUNT_Q).format(a=a, b=b), ", ".join(str(i) for i in range(a, b + 1))
    if skill == "zh_repeat":
        p = _zh_phrase(rng, heldout)
        return rng.choice(ZH_REPEAT_Q).format(p=p), p
    if skill == "greeting":
        return rng.choice(GREETINGS)
    raise ValueError(skill)


def make_conversation(rng):
    names, weights = list(MIX), list(MIX.values())
    msgs = []
    if rng.random() < 0.15:
        msgs.append({"role": "system", "content": rng.choice(SYSTEMS)})
    turns = 1 if rng.random() < 0.85 else 2
    for _ in range(turns):
        q, a = make_qa(rng, rng.choices(names, weights)[0])
        msgs += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    return msgs


def write_corpus(path, n, seed):
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(n):
            f.write(json.dumps(make_conversation(rng), ensure_ascii=False) + "\n")


def heldout_items(seed, per_arith=150, per_other=60):
    rng = random.Random(seed + 1)
    items, seen = [], set()
    for skill in SKILLS:
        want = per_arith if skill in ARITH else per_other
        got = 0
        while got < want:
            q, a = make_qa(rng, skill, heldout=True)
            if q in seen:
                continue
            seen.add(q)
            items.append({"skill": skill, "messages": [{"role": "user", "content": q}], "answer": a})
            got += 1
    return items


# ---- tool skill -------------------------------------------------------------------------------
# A weather function with a required city argument (and an optional unit): (a) asked about the
# weather with the function offered, the assistant answers with exactly the call; (b) given the
# result in the next turn, it answers from it; (c) offered the function but asked something else,
# it answers as it would without tools.  The key of the held-out split is the city.
TOOL_SKILLS = ["tool_call", "tool_answer", "tool_none", "tool_call_alt"]
WEATHER_NAME = "get_weather"
WEATHER_NAMES_ALT = ["get_current_weather", "weather", "getWeather", "current_weather", "lookup_weather",
                     "fetch_weather", "weather_now", "get_weather_info"]
CITY_PARAMS_ALT = ["location", "city_name", "place"]
OTHER_TOOLS = [("get_time", ["timezone?"]), ("search", ["query"]), ("send_email", ["to", "subject", "body"]),
               ("calculator", ["expression"]), ("get_stock_price", ["symbol"]), ("translate", ["text", "target"]),
               ("set_alarm", ["time", "label?"]), ("get_news", ["topic?"])]
WEATHER_Q = ["What is the weather in {c}?", "What's the weather like in {c}?", "How is the weather in {c}?",
             "Weather in {c}?", "What is the temperature in {c}?", "Tell me the weather in {c}.",
             "Is it cold in {c}?", "What's the weather in {c} today?"]
UNIT_Q = [" in {u}", " in {u}, please"]
CITIES = ("Oslo Paris London Tokyo Berlin Madrid Rome Vienna Prague Warsaw Dublin Lisbon Athens Helsinki "
          "Stockholm Copenhagen Amsterdam Brussels Zurich Geneva Munich Hamburg Milan Naples Barcelona "
          "Seville Porto Krakow Budapest Bucharest Sofia Belgrade Zagreb Istanbul Ankara Cairo Nairobi Lagos "
          "Accra Casablanca Tunis Dubai Doha Riyadh Tehran Karachi Delhi Mumbai Chennai Kolkata Dhaka "
          "Kathmandu Colombo Bangkok Hanoi Manila Jakarta Singapore Seoul Busan Osaka Kyoto Beijing Shanghai "
          "Shenzhen Taipei Sydney Melbourne Perth Auckland Wellington Toronto Montreal Vancouver Chicago "
          "Boston Seattle Denver Dallas Houston Miami Atlanta Phoenix Detroit Lima Bogota Quito Santiago "
          "Caracas Havana Reykjavik Tallinn Riga Vilnius Minsk Kyiv Tbilisi Yerevan Baku Tashkent Almaty "
          "Ulaanbaatar Lyon Marseille Nice Bordeaux Glasgow Edinburgh Cardiff Belfast Bergen Gothenburg").split()
CITIES += ["New York", "San Francisco", "Los Angeles", "Rio de Janeiro", "Hong Kong", "Buenos Aires",
           "Cape Town", "Mexico City", "Kuala Lumpur", "Sao Paulo", "Tel Aviv", "Abu Dhabi", "Las Vegas",
           "New Delhi", "Salt Lake City", "St Petersburg", "Ho Chi Minh City", "Addis Ababa"]
CONDITIONS = ["sunny", "cloudy", "rainy", "snowy", "windy", "foggy", "clear", "stormy", "overcast",
              "partly cloudy", "light rain", "heavy rain", "drizzle", "hazy", "humid", "freezing", "mild",
              "warm", "hot", "cold", "clear skies", "thunderstorms", "light snow", "showers"]
WEATHER_A = "It is {t}°{u} and {w} in {c}."
WEATHER_A_NO_COND = "It is {t}°{u} in {c}."
TOOL_SYSTEMS = SYSTEMS + ["You can call tools.", "You are a helpful assistant with access to tools."]


def _city(rng, heldout):
    while True:
        if rng.random() < 0.5:
            c = rng.choice(CITIES)
        else:  # made-up names make the model copy the city, not recall it
            c = " ".join(_word(rng, heldout, 3, 9).capitalize() for _ in range(1 if rng.random() < 0.8 else 2))
        if is_heldout("city:" + c) == heldout:
            return c


def weather_tool(name=WEATHER_NAME, city="city", unit=False):
    props = {city: {"type": "string", "description": "The city"}}
    if unit:
        props["unit"] = {"type": "string", "enum": ["celsius", "fahrenheit"]}
    return {"type": "function", "function": {
        "name": name, "description": "Get the current weather in a city.",
        "parameters": {"type": "object", "properties": props, "required": [city]}}}


def _other_tool(name, params):
    props = {p.rstrip("?"): {"type": "string"} for p in params}
    return {"type": "function", "function": {"name": name, "description": "",
            "parameters": {"type": "object", "properties": props,
                           "required": [p for p in params if not p.endswith("?")]}}}


def _tools(rng, canonical=False):
    """The tools offered: a weather function (get_weather(city) most of the time, sometimes another name,
    city parameter or an optional unit) and sometimes other functions around it."""
    if canonical:
        name, city, unit = WEATHER_NAME, "city", False
    else:
        name = WEATHER_NAME if rng.random() < 0.75 else rng.choice(WEATHER_NAMES_ALT)
        city = "city" if rng.random() < 0.75 else rng.choice(CITY_PARAMS_ALT)
        unit = rng.random() < 0.35
    tools = [weather_tool(name, city, unit)]
    if not canonical and rng.random() < 0.25:
        others = [_other_tool(n, p) for n, p in rng.sample(OTHER_TOOLS, rng.randint(1, 2))]
        k = rng.randint(0, len(others))
        tools = others[:k] + tools + others[k:]
    return tools, name, city, unit


def _weather_result(rng, city, t, unit, cond):
    """The tool's answer as a client would send it: JSON in a few shapes, or a short text."""
    sym = "F" if unit == "fahrenheit" else "C"
    if rng.random() < 0.15 and cond is not None:
        return rng.choice(["{t}°{s}, {w}", "{w}, {t}°{s}", "{t}°{s} and {w}"]).format(t=t, s=sym, w=cond)
    fields = [("temperature" if rng.random() < 0.85 else "temp", t)]
    if cond is not None:
        fields.append(("condition" if rng.random() < 0.8 else "weather", cond))
        if rng.random() < 0.3:
            fields.reverse()
    if unit == "fahrenheit" or rng.random() < 0.3:
        fields.append(("unit", unit))
    if rng.random() < 0.3:
        fields.insert(0, ("city", city))
    return json.dumps(dict(fields), ensure_ascii=False, separators=(",", ":") if rng.random() < 0.5 else None)


def weather_round(rng, heldout, tools_info, call_id):
    """One weather question, the call, the tool's result and the answer: (messages, call, answer)."""
    _, name, city_param, has_unit = tools_info
    c = _city(rng, heldout)
    q = rng.choice(WEATHER_Q).format(c=c)
    args = {city_param: c}
    unit = "celsius"
    if has_unit and rng.random() < 0.5:
        unit = rng.choice(["celsius", "fahrenheit"])
        q = q[:-1] + rng.choice(UNIT_Q).format(u=unit) + q[-1]
        args["unit"] = unit
    t = rng.randint(-15, 38) if unit == "celsius" else rng.randint(5, 100)
    cond = None if rng.random() < 0.12 else (
        rng.choice(CONDITIONS) if rng.random() < 0.85 else _word(rng, heldout, 4, 9))
    if cond is not None and rng.random() < 0.08:
        cond = cond.capitalize()
    sym = "F" if unit == "fahrenheit" else "C"
    answer = (WEATHER_A if cond is not None else WEATHER_A_NO_COND).format(t=t, u=sym, w=cond, c=c)
    call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}
    msgs = [{"role": "user", "content": q},
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call_id, "content": _weather_result(rng, c, t, unit, cond)},
            {"role": "assistant", "content": answer}]
    return msgs


def make_tool_conversation(rng):
    tools_info = _tools(rng)
    msgs = []
    if rng.random() < 0.25:
        msgs.append({"role": "system", "content": rng.choice(TOOL_SYSTEMS)})
    names, weights = list(MIX), list(MIX.values())
    if rng.random() < 0.4:  # (c) offered the tool, asked something else
        for _ in range(1 if rng.random() < 0.85 else 2):
            q, a = make_qa(rng, rng.choices(names, weights)[0])
            msgs += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        return {"tools": tools_info[0], "messages": msgs}
    if rng.random() < 0.12:  # an earlier turn without a call
        q, a = make_qa(rng, rng.choices(names, weights)[0])
        msgs += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    msgs += weather_round(rng, False, tools_info, "call_0")
    if rng.random() < 0.08:  # a later question without a call (two round trips would not fit a row)
        q, a = make_qa(rng, rng.choices(names, weights)[0])
        msgs += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    return {"tools": tools_info[0], "messages": msgs}


def write_tool_corpus(path, n, seed):
    rng = random.Random(seed + 7)
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(n):
            f.write(json.dumps(make_tool_conversation(rng), ensure_ascii=False) + "\n")


def tool_heldout_items(seed, per_skill=60):
    """Held-out cities only.  tool_call: the call, with get_weather(city) offered (the likeliest way a
    client offers it); tool_answer: the answer from the result; tool_none: held-out questions of the
    first skills (in turn) with get_weather(city) offered; tool_call_alt: the call when the offer varies
    as in training (another function name or city parameter, an optional unit, other tools around it)."""
    rng = random.Random(seed + 2)
    items, seen = [], set()
    for skill in TOOL_SKILLS:
        got = 0
        while got < per_skill:
            tools = [weather_tool()]
            if skill == "tool_call_alt":
                info = _tools(rng)
                if info[1:] == (WEATHER_NAME, "city", False) and len(info[0]) == 1:
                    continue
                tools = info[0]
                r = weather_round(rng, True, info, "call_0")
                q, msgs, a = r[0]["content"], r[:1], bpe.tool_call_text(r[1]["tool_calls"][0])
            elif skill == "tool_none":
                q, a = make_qa(rng, SKILLS[got % len(SKILLS)], heldout=True)
                msgs = [{"role": "user", "content": q}]
            else:
                r = weather_round(rng, True, (tools, WEATHER_NAME, "city", False), "call_0")
                q = r[0]["content"]
                if skill == "tool_call":
                    msgs, a = r[:1], bpe.tool_call_text(r[1]["tool_calls"][0])
                else:
                    msgs, a = r[:3], r[3]["content"]
            if q in seen:
                continue
            seen.add(q)
            items.append({"skill": skill, "tools": tools, "messages": msgs, "answer": a})
            got += 1
    return items


def write_heldout(path, seed):
    with open(path, "w", encoding="utf-8") as f:
        for it in heldout_items(seed) + tool_heldout_items(seed):
            f.write(json.dumps(it, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    r = random.Random(0)
    for _ in range(12):
        print(make_conversation(r))
    print(len(ZH_POOL), ZH_POOL)
