# Shortcuts for the two README commands; each script sets itself up.
.PHONY: demo test
demo:
	scripts/demo
test:
	scripts/test
