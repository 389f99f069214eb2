# Two commands for a fresh machine: `make run` and `make test`.
# Each installs what it needs: the Debian packages Qt and the keyring need
# (when missing; we run as root), a .venv, and the app into it.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Fonts: CJK and colour emoji fallbacks (10 MB), or the demo's tweets show boxes.
QT_PACKAGES := libglib2.0-0 libgl1 libegl1 libx11-6 libdbus-1-3 libfontconfig1 \
    libfreetype6 libxkbcommon0 fonts-dejavu-core fonts-droid-fallback fonts-noto-color-emoji
WINDOW_PACKAGES := libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 \
    libxcb-keysyms1 libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-xkb1 libxcb-util1
KEYRING_PACKAGES := gnome-keyring dbus
# desktop-file-utils: tests/integration/test_installed.py validates the desktop entries.
# trayer (a system tray) and dunst (a notification server): tests/desktop.
# at-spi2-core (the accessibility bus and registry): tests/desktop/test_accessibility.py.
TEST_PACKAGES := $(QT_PACKAGES) $(KEYRING_PACKAGES) postgresql xvfb xauth $(WINDOW_PACKAGES) \
    desktop-file-utils trayer dunst at-spi2-core

.PHONY: run test lint bench bundle icons screenshot clean

run: $(STAMP)
	@sh tests/env/debian-packages.sh $(QT_PACKAGES) $(WINDOW_PACKAGES)
	$(BIN)/mobile-console demo

test: $(STAMP)
	@sh tests/env/debian-packages.sh $(TEST_PACKAGES)
	$(MAKE) --no-print-directory lint
	bash tests/env/with-services.sh $(BIN)/python -m pytest -n auto --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check console tests bench resources build_spec setup.py
	$(BIN)/ruff format --check console tests bench resources build_spec setup.py
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	@sh tests/env/debian-packages.sh $(QT_PACKAGES)
	bash tests/env/with-services.sh $(BIN)/python -m bench

bundle: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bundle]'
	$(BIN)/pyinstaller --noconfirm --clean --distpath dist --workpath build build_spec/mobile-console.spec

icons: $(STAMP)
	$(BIN)/python build_spec/render_icons.py

screenshot: $(STAMP)
	@sh tests/env/debian-packages.sh $(QT_PACKAGES) $(WINDOW_PACKAGES) xvfb xauth
	xvfb-run -a -s "-screen 0 1400x900x24" env QT_QPA_PLATFORM=xcb $(BIN)/python -m console.gui.screenshot docs/screenshots

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
