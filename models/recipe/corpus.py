"""Synthetic chat corpus: skills, fixed wording, held-out split.

Every item is a conversation (list of {"role", "content"}) whose assistant
answers are exact and checkable.  Items whose key (number pair, word,
phrase) falls in the held-out hash bucket are never produced for training;
the held-out evaluation set is built only from such keys.

Subtraction always keeps a >= b, so results are never negative.
"""
import hashlib
import json
import random

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


def write_heldout(path, seed):
    with open(path, "w", encoding="utf-8") as f:
        for it in heldout_items(seed):
            f.write(json.dumps(it, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    r = random.Random(0)
    for _ in range(12):
        print(make_conversation(r))
    print(len(ZH_POOL), ZH_POOL)
