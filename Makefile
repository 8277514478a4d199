# The two commands: `make run` serves the shipped rules on 127.0.0.1:$(PORT);
# `make test` installs what it needs and runs every test. Both create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8080
STAMP := $(VENV)/.installed

.PHONY: run test test-deep bench lint openapi schema constraints clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	RECOVERY_PORT=$(PORT) $(BIN)/recovery serve

test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not deep"

test-deep: $(STAMP)
	$(BIN)/python -m pytest -q -m deep

openapi: $(STAMP)
	$(BIN)/recovery openapi --write

schema: $(STAMP)
	$(BIN)/recovery schema --write

# Re-pin every dependency to what is installed in .venv (after changing pyproject.toml).
constraints: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^-e ' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis test-output
