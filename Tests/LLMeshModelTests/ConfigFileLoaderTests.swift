import Testing
@testable import LLMeshModel

@Suite struct ConfigFileLoaderTests {
    let loader = ConfigFileLoader()

    static let valid = """
        apiVersion: llmesh.io/v1alpha1
        kind: LLMProvider
        metadata: {name: openai}
        spec:
          type: OpenAI
          auth: {apiKey: {file: /var/run/secrets/openai/key}}
          timeouts: {connect: 2s, request: 60s, streamIdle: 10s}
          models:
            - name: gpt-4o-mini
              pricing: {inputPerMillion: 0.15, outputPerMillion: 0.6, cachedInputPerMillion: 0.075}
        ---
        apiVersion: llmesh.io/v1alpha1
        kind: LLMRoute
        metadata: {name: chat}
        spec:
          match: {model: gpt-4o-mini, aliases: [fast]}
          backends:
            - provider: openai
              model: gpt-4o-mini-2024-07-18
              weight: 3
        ---
        apiVersion: llmesh.io/v1alpha1
        kind: VirtualKey
        metadata: {name: team-a}
        spec:
          keyHash: sha256:0000000000000000000000000000000000000000000000000000000000000000
          allowedModels: ["gpt-*"]
          limits: {requestsPerMinute: 60, scope: Global}
          budget: {usd: 10, period: Monthly}
          expiresAt: 2027-01-01T00:00:00Z
        ---
        apiVersion: llmesh.io/v1alpha1
        kind: LLMPolicy
        metadata: {name: default}
        spec:
          workloadSelector: {matchLabels: {app: web}, serviceAccounts: [web]}
          allowedModels: [fast]
          guardrails: {pii: true, action: Redact}
        """

    @Test func readsEveryKind() throws {
        let bundle = try loader.load(yaml: Self.valid)
        #expect(bundle.providers.count == 1)
        #expect(bundle.providers[0].spec.type == .openAI)
        #expect(bundle.providers[0].spec.auth?.apiKey == .file("/var/run/secrets/openai/key"))
        #expect(bundle.providers[0].spec.timeouts.streamIdle == .seconds(10))
        #expect(bundle.providers[0].spec.pricing(for: "gpt-4o-mini")?.cachedInputPerMillion == 0.075)
        #expect(bundle.routes[0].spec.backends[0].model == "gpt-4o-mini-2024-07-18")
        #expect(bundle.routes[0].spec.backends[0].weight == 3)
        #expect(bundle.routes[0].spec.exposedModelNames == ["gpt-4o-mini", "fast"])
        #expect(bundle.virtualKeys[0].spec.limits?.scope == .global)
        #expect(bundle.virtualKeys[0].spec.budget == Budget(usd: 10, period: .monthly))
        #expect(bundle.policies[0].spec.guardrails?.action == .redact)
        #expect(bundle.policies[0].spec.workloadSelector?.matchLabels == ["app": "web"])
    }

    @Test func listsEveryProblemWithDocumentResourceFieldAndLine() {
        let yaml = """
            apiVersion: llmesh.io/v1alpha1
            kind: LLMProvider
            metadata: {name: openai}
            spec:
              type: OpenAl
              endpoint: ftp://example.com
              timeouts: {connect: soon}
            ---
            apiVersion: llmesh.io/v1alpha1
            kind: LLMRoute
            metadata: {name: chat}
            spec:
              match: {model: gpt-4o}
              backend: []
              backends:
                - provider: opnai
                  weight: -1
            """
        let problems = expectProblems(yaml)
        let lines = problems.map(\.description)
        #expect(lines.contains { $0.contains("document 1 (LLMProvider/openai)") && $0.contains("spec.type: must be one of OpenAI, Anthropic, OpenAICompatible, Bedrock, Mock, got \"OpenAl\"") })
        #expect(lines.contains { $0.contains("spec.endpoint: must start with http:// or https://") })
        #expect(lines.contains { $0.contains("spec.timeouts.connect: must be a duration") })
        #expect(lines.contains { $0.contains("document 2 (LLMRoute/chat)") && $0.contains("spec.backend: unknown field") })
        #expect(lines.contains { $0.contains("spec.backends[0].weight: must be at least 0, got -1") })
        #expect(lines.contains { $0.contains("spec.backends[0].provider: provider \"opnai\" is not defined") })
        #expect(problems.first { $0.fieldPath == "spec.backend" }?.line == 14)
    }

    @Test func refusesWrongKindAndVersionAndBadNames() {
        let problems = expectProblems("""
            apiVersion: llmesh.io/v2
            kind: ConfigMap
            metadata: {name: Bad_Name}
            """)
        #expect(problems.contains { $0.fieldPath == "apiVersion" })
        let onlyKubernetes = expectProblems("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
        #expect(onlyKubernetes.map(\.message) == ["the file holds no llmesh resources"])
        #expect(problems.contains { $0.fieldPath == "kind" && $0.message.contains("ConfigMap") })
        #expect(problems.contains { $0.fieldPath == "metadata.name" && $0.message.contains("DNS-1123") })
    }

    @Test func reportsYAMLSyntaxErrorsWithLine() {
        let problems = expectProblems("kind: LLMRoute\nmetadata: {name: x\nspec: [")
        #expect(problems.count == 1)
        #expect(problems[0].message.hasPrefix("YAML syntax error"))
        #expect(problems[0].line != nil)
    }

    @Test func refusesTruncatedDocumentsAndNonMappings() {
        let truncated = expectProblems("apiVersion: llmesh.io/v1alpha1\nkind: LLMRoute\n")
        #expect(truncated.contains { $0.fieldPath == "metadata" && $0.message == "is required" })
        let list = expectProblems("- a\n- b\n")
        #expect(list.contains { $0.message.contains("must be a mapping") })
    }

    @Test func refusesEmptyAndOversizedFiles() {
        #expect(expectProblems("").first?.message == "the file holds no resources")
        let small = ConfigFileLoader(maximumBytes: 100)
        #expect(throws: ConfigValidationError.self) { try small.load(yaml: String(repeating: "#", count: 101)) }
    }

    @Test func findsDuplicateNamesAndModelsClaimedTwice() {
        let route = """
            apiVersion: llmesh.io/v1alpha1
            kind: LLMRoute
            metadata: {name: chat}
            spec:
              match: {model: m, aliases: [a]}
              backends: [{provider: mock}]
            """
        let yaml = """
            apiVersion: llmesh.io/v1alpha1
            kind: LLMProvider
            metadata: {name: mock}
            spec: {type: Mock}
            ---
            \(route)
            ---
            \(route)
            """
        let problems = expectProblems(yaml)
        #expect(problems.contains { $0.message.contains("already named \"chat\"") && $0.documentIndex == 3 })
        #expect(problems.contains { $0.message.contains("model name \"m\" is already routed by LLMRoute/chat") })
    }

    @Test func checksProviderTypeRules() {
        let problems = expectProblems("""
            apiVersion: llmesh.io/v1alpha1
            kind: LLMProvider
            metadata: {name: groq}
            spec:
              type: OpenAICompatible
              auth: {apiKey: {file: /a, env: B}}
              mock: {response: hi}
            """)
        #expect(problems.contains { $0.fieldPath == "spec.endpoint" && $0.message.contains("required for type OpenAICompatible") })
        #expect(problems.contains { $0.fieldPath == "spec.auth.apiKey" && $0.message.contains("only one of") })
        #expect(problems.contains { $0.fieldPath == "spec.mock" })
    }

    @Test func kubernetesDocumentsBesideLLMeshResourcesAreSkipped() throws {
        let bundle = try loader.load(yaml: """
            apiVersion: v1
            kind: Secret
            metadata: {name: openai}
            stringData: {api-key: sk-1}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: app}
            spec: {replicas: 1}
            ---
            apiVersion: llmesh.io/v1alpha1
            kind: LLMProvider
            metadata: {name: mock}
            spec: {type: Mock}
            """)
        #expect(bundle.count == 1)
        let problems = expectProblems("""
            apiVersion: llmesh.io/v1
            kind: LLMProvider
            metadata: {name: mock}
            spec: {type: Mock}
            """)
        #expect(problems.contains { $0.fieldPath == "apiVersion" }, "a misspelt llmesh version is still reported")
    }

    private func expectProblems(_ yaml: String) -> [ConfigProblem] {
        do {
            _ = try loader.load(yaml: yaml)
            Issue.record("expected the file to be refused")
            return []
        } catch {
            return error.problems
        }
    }
}
