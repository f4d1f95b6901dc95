#!/usr/bin/env python3
"""Every C block in README.md is an example file, as it is in examples/.

A ```c block must follow a line that links examples/NAME.c, and its text
must be that file's, byte for byte: the README shows only code that the
build compiles. usage: check_readme_examples.py SOURCE_DIR
"""
import os
import re
import sys

source = sys.argv[1]
readme = open(os.path.join(source, "README.md")).read().split("\n")
blocks, errors = 0, []
index = 0
while index < len(readme):
    if readme[index].strip() != "```c":
        index += 1
        continue
    start = index
    end = readme.index("```", start + 1)
    text = "\n".join(readme[start + 1:end]) + "\n"
    before = [line for line in readme[:start] if line.strip()][-1]
    named = re.findall(r"\(examples/([\w.-]+\.c)\)", before)
    if not named:
        errors.append("README.md line %d: a C block not named after an examples/ file "
                      "on the line before it" % (start + 1))
    else:
        path = os.path.join(source, "examples", named[-1])
        if not os.path.exists(path):
            errors.append("README.md line %d: examples/%s does not exist" % (start + 1, named[-1]))
        elif open(path).read() != text:
            errors.append("README.md line %d: the block differs from examples/%s"
                          % (start + 1, named[-1]))
    blocks += 1
    index = end + 1
if errors:
    print("FAIL: " + "\nFAIL: ".join(errors))
    sys.exit(1)
if blocks == 0:
    print("FAIL: no C block in README.md")
    sys.exit(1)
print("ok: %d C blocks in README.md are examples/ files" % blocks)
