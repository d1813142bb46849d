# Every target is a script in build/ (see build/README.md); this file only names them.
.PHONY: lib test demo bench install clean deps wheel ptx
PREFIX ?= /usr/local

lib:
	bash build/lib.sh
test:
	bash build/test.sh
demo:
	bash build/demo.sh
bench:
	bash build/bench.sh
install: lib
	PREFIX="$(PREFIX)" bash build/install.sh
ptx:
	bash build/ptx.sh
deps:
	bash build/deps.sh
wheel:
	bash build/wheel.sh
clean:
	rm -rf dist
