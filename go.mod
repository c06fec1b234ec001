module github.com/deskbot/deskbot

go 1.26

require (
	github.com/sahilm/fuzzy v0.1.3 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
)
