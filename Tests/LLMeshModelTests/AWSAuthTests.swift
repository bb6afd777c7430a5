import Testing
@testable import LLMeshModel

@Suite struct AWSAuthTests {
    let loader = ConfigFileLoader()

    func provider(_ spec: String) -> String {
        """
        apiVersion: llmesh.io/v1alpha1
        kind: LLMProvider
        metadata: {name: bedrock}
        spec:
        \(spec.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        """
    }

    func problems(_ yaml: String) -> [String] {
        do {
            _ = try loader.load(yaml: yaml)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    @Test func readsWebIdentityAndRegion() throws {
        let bundle = try loader.load(yaml: provider("""
            type: Bedrock
            auth:
              aws:
                region: us-gov-west-1
                webIdentity: {roleARN: "arn:aws-us-gov:iam::111122223333:role/llm", tokenFile: /var/run/token, sessionName: app.1}
            """))
        let aws = try #require(bundle.providers.first?.spec.auth?.aws)
        #expect(aws.region == "us-gov-west-1")
        #expect(aws.webIdentity == AWSWebIdentity(roleARN: "arn:aws-us-gov:iam::111122223333:role/llm", tokenFile: "/var/run/token", sessionName: "app.1"))
        #expect(!aws.podIdentity)
    }

    @Test func readsPodIdentityAsAnEmptyObject() throws {
        let bundle = try loader.load(yaml: provider("type: Bedrock\nauth: {aws: {podIdentity: {}}}"))
        #expect(bundle.providers.first?.spec.auth?.aws?.podIdentity == true)
        let bare = try loader.load(yaml: provider("type: Bedrock"))
        #expect(bare.providers.first?.spec.auth == nil)
    }

    @Test func refusesWhatCannotWork() {
        let wrongType = problems(provider("type: OpenAI\nauth: {aws: {region: us-east-1}}"))
        #expect(wrongType.contains { $0.contains("spec.auth.aws: is only allowed for type Bedrock") })
        let both = problems(provider("type: Bedrock\nauth: {aws: {webIdentity: {roleARN: \"arn:aws:iam::1:role/x\"}, podIdentity: {}}}"))
        #expect(both.contains { $0.contains("must set only one of webIdentity or podIdentity") })
        let keyAndRole = problems(provider("type: Bedrock\nauth: {apiKey: {env: K}, aws: {region: us-east-1}}"))
        #expect(keyAndRole.contains { $0.contains("must set only one of apiKey or aws") })
        let region = problems(provider("type: Bedrock\nauth: {aws: {region: \"evil.com/x\"}}"))
        #expect(region.contains { $0.contains("spec.auth.aws.region: must be an AWS region name") })
        let role = problems(provider("type: Bedrock\nauth: {aws: {webIdentity: {roleARN: \"my-role\"}}}"))
        #expect(role.contains { $0.contains("spec.auth.aws.webIdentity.roleARN: must be an IAM role ARN") })
        let missingRole = problems(provider("type: Bedrock\nauth: {aws: {webIdentity: {tokenFile: /t}}}"))
        #expect(missingRole.contains { $0.contains("spec.auth.aws.webIdentity.roleARN: is required") })
        let session = problems(provider("type: Bedrock\nauth: {aws: {webIdentity: {roleARN: \"arn:aws:iam::1:role/x\", sessionName: \"has space\"}}}"))
        #expect(session.contains { $0.contains("sessionName: must be 2 to 64 characters") })
        let typo = problems(provider("type: Bedrock\nauth: {aws: {regoin: us-east-1}}"))
        #expect(typo.contains { $0.contains("spec.auth.aws.regoin: unknown field") })
    }

    @Test func regionNamesAreHostSafe() {
        #expect(AWSAuth.isRegionName("eu-central-1"))
        #expect(!AWSAuth.isRegionName("-us"))
        #expect(!AWSAuth.isRegionName("US-EAST-1"))
        #expect(!AWSAuth.isRegionName(""))
        #expect(!AWSAuth.isRegionName(String(repeating: "a", count: 33)))
    }
}
