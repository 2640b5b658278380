# 邑问 Yiwen — two commands: `make run` (clone → running bot) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
APP_PY := .venv/app/bin/python
RASA_PY := .venv/rasa/bin/python
YIWEN := .venv/app/bin/yiwen

.PHONY: help env run run-prod ps test index model lint format lock bench eval clean

help:
	@echo "make run    创建/更新环境，构建缺失的索引和模型，启动全部服务"
	@echo "make test   创建/更新环境，运行全部测试"
	@echo "make run-prod  生产配置：nginx + 多副本 Rasa / 动作服务器（supervisord），见 README"
	@echo "make eval   在开发集上评测检索问答    make bench  性能基准"
	@echo "make lint   ruff 检查                  make lock   重新生成依赖锁文件"

.venv/app/.ready: requirements/app.txt pyproject.toml scripts/setup-env.sh
	@scripts/setup-env.sh app

.venv/rasa/.ready: requirements/rasa.txt scripts/setup-env.sh
	@scripts/setup-env.sh rasa

env: .venv/app/.ready .venv/rasa/.ready
	@scripts/setup-console.sh

index: env
	@$(YIWEN) ingest

model: env
	@if [ -f bot/train.py ]; then $(RASA_PY) bot/train.py; fi

run: env index model
	@$(YIWEN) up

run-prod: env index model
	@scripts/setup-nginx.sh
	@$(YIWEN) up --prod

ps: env
	@$(YIWEN) ps

test: env
	@scripts/test.sh

lint: env
	@.venv/app/bin/ruff check . && .venv/app/bin/ruff format --check .

format: env
	@.venv/app/bin/ruff format . && .venv/app/bin/ruff check --fix .

eval: env
	@$(YIWEN) eval --questions ../shared/eval/dev.jsonl --corpus ../shared/corpus/core --out var/eval/dev.jsonl

bench: env
	@$(YIWEN) bench

lock:
	@scripts/lock.sh

clean:
	rm -rf var/index var/eval-index
