"""Deterministic generator of realistic job postings and resumes for the jobs workload."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from services.jobs.documents import SENIORITY_LEVELS, JobPosting, Resume

# Dates hang off a fixed day so the same seed gives the same corpus on any day.
BASE_DATE = date(2025, 6, 30)
POSTING_WINDOW_DAYS = 180


def _split(words: str) -> tuple[str, ...]:
    """A `;`-separated list written on one line (keeps the vocabulary below readable)."""
    return tuple(w.strip() for w in words.split(";"))


@dataclass(frozen=True)
class Family:
    """A role family: its titles, skills, salary level and the language of its documents."""

    key: str
    titles: tuple[str, ...]
    teams: tuple[str, ...]
    core_skills: tuple[str, ...]
    optional_skills: tuple[str, ...]
    salary: int  # mid level, high-cost US city, USD per year
    sectors: tuple[str, ...]  # hiring sectors, most likely first
    remote_rate: float
    weight: float  # how common postings of this family are
    focus: tuple[str, ...]  # noun phrases: "what this work is about"
    duties: tuple[str, ...]  # posting voice, present tense
    requirements: tuple[str, ...]  # posting voice, about the candidate
    experience: tuple[str, ...]  # resume voice, past tense; {n} and {pct} are filled in


FAMILIES: tuple[Family, ...] = (
    Family(
        key="data_science",
        titles=_split(
            "Data Scientist; Product Data Scientist; Applied Scientist; Decision Scientist; "
            "Research Data Scientist"
        ),
        teams=("Growth", "Pricing", "Marketplace", "Experimentation", "Risk"),
        core_skills=_split(
            "python; sql; statistics; machine learning; pandas; scikit-learn; a/b testing; "
            "data visualization"
        ),
        optional_skills=_split(
            "r; causal inference; tableau; spark; bayesian modelling; forecasting; jupyter; "
            "looker; nlp; pytorch"
        ),
        salary=150_000,
        sectors=("tech", "finance", "retail", "healthcare"),
        remote_rate=0.22,
        weight=1.2,
        focus=(
            "statistical modelling and experimentation",
            "turning messy product data into decisions",
            "causal inference and forecasting",
        ),
        duties=(
            "Design, run and analyse A/B tests that decide which product changes ship.",
            "Build predictive models for churn, conversion and lifetime value, "
            "and explain them to non-technical partners.",
            "Define the metrics that tell us whether a feature works, and keep them honest.",
            "Dig into user behaviour data to find the questions worth asking next.",
            "Partner with product managers to size opportunities before engineering time is spent.",
            "Turn one-off analyses into reusable notebooks, dashboards and internal tools.",
            "Estimate the causal effect of launches when a clean experiment is not possible.",
            "Present findings to leadership in plain language, with the uncertainty stated.",
            "Work with data engineers to make sure the tables you rely on are trustworthy.",
        ),
        requirements=(
            "A solid grounding in statistics: hypothesis testing, regression and "
            "experimental design.",
            "The judgement to choose a simple model when a simple model is enough.",
            "Clear written communication; your analyses are read by people outside the team.",
            "Comfort writing production-quality analysis code, not only notebooks.",
            "A degree in statistics, economics, computer science or a similar quantitative field.",
        ),
        experience=(
            "Ran more than {n} A/B tests on onboarding flows and raised activation by {pct}%.",
            "Built a churn model that let the retention team target offers, cutting churn {pct}%.",
            "Introduced CUPED variance reduction, shortening experiments by about {pct}%.",
            "Owned the metrics layer for a marketplace with {n} thousand weekly users.",
            "Estimated the impact of a pricing change with a difference-in-differences analysis.",
            "Forecast weekly demand for {n} regions and fed the numbers into staffing plans.",
            "Wrote the team's guide to experiment analysis, still used for every launch review.",
            "Mentored analysts on regression, sampling and how to present uncertainty.",
        ),
    ),
    Family(
        key="ml_engineering",
        titles=_split(
            "Machine Learning Engineer; MLOps Engineer; ML Platform Engineer; Applied ML Engineer; "
            "AI Engineer"
        ),
        teams=("Recommendations", "Search", "ML Platform", "Personalization", "Fraud"),
        core_skills=_split(
            "python; pytorch; machine learning; mlops; docker; kubernetes; model serving; "
            "feature stores"
        ),
        optional_skills=_split(
            "tensorflow; spark; airflow; mlflow; aws sagemaker; onnx; ray; llms; vector databases; "
            "scikit-learn; c++"
        ),
        salary=175_000,
        sectors=("tech", "finance", "retail", "healthcare"),
        remote_rate=0.25,
        weight=1.1,
        focus=(
            "putting machine learning models into production",
            "training pipelines, model serving and monitoring",
            "ranking, retrieval and recommendation systems",
        ),
        duties=(
            "Take models from a research notebook to a monitored, versioned production service.",
            "Build training pipelines that are reproducible, scheduled and cheap to rerun.",
            "Serve models behind low-latency APIs and keep p99 latency within budget.",
            "Own the feature store and make sure training and serving see the same features.",
            "Monitor models for drift and data quality issues, and automate retraining.",
            "Improve retrieval and ranking quality with embeddings and vector search.",
            "Work with data scientists to turn prototypes into systems that survive real traffic.",
            "Profile and optimise GPU and CPU inference, including quantisation and batching.",
            "Keep the model registry, experiment tracking and deployment tooling boring "
            "and reliable.",
        ),
        requirements=(
            "Strong software engineering habits: tests, code review and readable code.",
            "Hands-on experience training and deploying deep learning models.",
            "Understanding of how models fail in production and how to detect it.",
            "Experience with containerised services and at least one major cloud provider.",
            "Curiosity about recent work on large language models and retrieval.",
        ),
        experience=(
            "Moved {n} models from ad-hoc scripts to a registry with automated retraining.",
            "Cut inference latency by {pct}% by exporting models to ONNX and batching requests.",
            "Built the feature store used by {n} teams for both training and online serving.",
            "Shipped an embedding-based retrieval service that lifted search click-through {pct}%.",
            "Set up drift monitoring that caught a broken upstream feed before customers noticed.",
            "Reduced GPU training cost by {pct}% with mixed precision and spot instances.",
            "Designed a canary rollout process for models, with automatic rollback on bad metrics.",
            "Maintained the team's MLflow tracking server and model promotion workflow.",
        ),
    ),
    Family(
        key="data_engineering",
        titles=_split(
            "Data Engineer; Analytics Engineer; Big Data Engineer; Data Platform Engineer; "
            "ETL Developer"
        ),
        teams=("Data Platform", "Analytics", "Ingestion", "Finance Data", "Core Data"),
        core_skills=_split("sql; python; spark; airflow; dbt; data modeling; kafka; etl"),
        optional_skills=_split(
            "snowflake; bigquery; aws; scala; terraform; databricks; postgresql; data quality; "
            "dagster; flink; docker"
        ),
        salary=155_000,
        sectors=("tech", "finance", "retail", "logistics", "healthcare"),
        remote_rate=0.24,
        weight=1.1,
        focus=(
            "batch and streaming data pipelines",
            "data warehouses and dimensional modelling",
            "reliable data platforms for analytics and machine learning",
        ),
        duties=(
            "Build and operate batch and streaming pipelines that land data on time, every day.",
            "Model the warehouse so analysts can answer questions without asking you first.",
            "Own orchestration: scheduling, retries, backfills and alerting for failed runs.",
            "Add data quality checks and contracts so broken upstream data never reaches reports.",
            "Ingest events from product services through Kafka into the lakehouse.",
            "Tune slow queries and expensive jobs, and keep warehouse spend under control.",
            "Work with analytics and data science teams on the tables they depend on.",
            "Document lineage so anyone can see where a number comes from.",
            "Migrate legacy ETL scripts to tested, version-controlled dbt models.",
        ),
        requirements=(
            "Excellent SQL and a feel for how query plans behave on large tables.",
            "Experience designing schemas for analytics: facts, dimensions, slowly changing data.",
            "Comfort operating production pipelines, including on-call for data incidents.",
            "Software engineering discipline applied to data: tests, reviews, CI.",
            "Experience with at least one cloud data warehouse.",
        ),
        experience=(
            "Migrated {n} legacy cron jobs to Airflow with retries, alerting and backfills.",
            "Rebuilt the warehouse model in dbt, cutting the nightly run time by {pct}%.",
            "Built a Kafka-to-lakehouse ingestion path handling {n} million events a day.",
            "Added data contracts and quality tests that reduced broken dashboards by {pct}%.",
            "Lowered warehouse spend by {pct}% by clustering tables and pruning unused models.",
            "Designed the customer dimension shared by finance, marketing and product analytics.",
            "Ran the on-call rotation for data incidents and wrote its runbooks.",
            "Introduced column-level lineage so analysts could trace every metric to its source.",
        ),
    ),
    Family(
        key="backend",
        titles=_split(
            "Backend Engineer; Software Engineer, Backend; Java Developer; Go Engineer; "
            "API Engineer; Python Developer"
        ),
        teams=("Payments", "Checkout", "Identity", "Core Services", "Billing", "Integrations"),
        core_skills=_split("api design; postgresql; docker; microservices; rest; git; go; java"),
        optional_skills=_split(
            "kotlin; python; kafka; redis; grpc; kubernetes; aws; graphql; node.js; rust; "
            "distributed systems; c#"
        ),
        salary=160_000,
        sectors=("tech", "finance", "retail", "logistics"),
        remote_rate=0.25,
        weight=1.5,
        focus=(
            "scalable backend services and APIs",
            "distributed systems and data-intensive services",
            "payments, billing and other systems that must not lose data",
        ),
        duties=(
            "Design, build and run the services and APIs behind our product.",
            "Model data carefully in PostgreSQL and keep migrations safe on live traffic.",
            "Break down large features into small, reviewable changes that ship every week.",
            "Make services observable with structured logs, metrics and traces.",
            "Handle failure explicitly: idempotent writes, retries with backoff, timeouts.",
            "Join the on-call rotation for the services your team owns.",
            "Review code and design documents, and help set the team's engineering standards.",
            "Work with frontend and mobile engineers on API contracts that are easy to evolve.",
            "Pay down technical debt where it slows the team down, not for its own sake.",
        ),
        requirements=(
            "Production experience with at least one of Go, Java, Kotlin or Python.",
            "A good understanding of relational databases, transactions and indexing.",
            "Experience designing APIs that other teams depend on.",
            "You write tests as a matter of course and value readable code.",
            "Familiarity with message queues and event-driven designs.",
        ),
        experience=(
            "Built the payment service that processes {n} thousand transactions a day.",
            "Split a monolith into {n} services with clear ownership and versioned APIs.",
            "Cut p99 latency of the checkout API by {pct}% with caching and query tuning.",
            "Introduced idempotency keys that eliminated duplicate charges during retries.",
            "Designed a zero-downtime migration of a {n} GB table to a new schema.",
            "Added tracing across services, halving the time to find the cause of incidents.",
            "Led the design of a webhook delivery system with retries and signed payloads.",
            "Maintained the public REST API used by {n} partner integrations.",
        ),
    ),
    Family(
        key="frontend",
        titles=_split(
            "Frontend Engineer; Frontend Developer; React Developer; UI Engineer; Web Developer"
        ),
        teams=("Web Platform", "Design Systems", "Checkout", "Growth", "Dashboard"),
        core_skills=_split(
            "javascript; typescript; react; html; css; accessibility; web performance; "
            "testing-library"
        ),
        optional_skills=_split(
            "next.js; vue; graphql; storybook; design systems; webpack; node.js; figma; cypress; "
            "redux"
        ),
        salary=145_000,
        sectors=("tech", "retail", "finance"),
        remote_rate=0.26,
        weight=1.2,
        focus=(
            "accessible, fast web interfaces",
            "React applications and design systems",
            "turning designs into polished, usable web products",
        ),
        duties=(
            "Build fast, accessible web interfaces in React and TypeScript.",
            "Work closely with designers to turn Figma files into polished, responsive screens.",
            "Grow and maintain the shared component library and its documentation in Storybook.",
            "Measure and improve Core Web Vitals on the pages that matter most.",
            "Write component and end-to-end tests that catch regressions before users do.",
            "Make sure every feature works with a keyboard and a screen reader.",
            "Shape API contracts with backend engineers so the UI gets the data it needs.",
            "Keep the build fast and the bundle small as the application grows.",
        ),
        requirements=(
            "Deep knowledge of modern JavaScript, TypeScript and the browser platform.",
            "Experience building and maintaining large React applications.",
            "A good eye for detail and respect for the work of designers.",
            "Working knowledge of WCAG and accessible HTML.",
            "Experience with frontend testing tools and CI.",
        ),
        experience=(
            "Rebuilt the checkout pages in React and TypeScript, lifting conversion by {pct}%.",
            "Created a component library of {n} components adopted by every product team.",
            "Improved Largest Contentful Paint by {pct}% through code splitting and image work.",
            "Led an accessibility audit and fixed {n} WCAG issues across the web app.",
            "Introduced visual regression tests in Storybook, catching UI bugs before release.",
            "Migrated a legacy jQuery dashboard to a typed React application.",
            "Paired with designers on a new design system with tokens shared with mobile.",
            "Reduced the JavaScript bundle size by {pct}% by removing unused dependencies.",
        ),
    ),
    Family(
        key="mobile",
        titles=_split(
            "iOS Engineer; Android Engineer; Mobile Engineer; Mobile Developer; "
            "React Native Developer"
        ),
        teams=("Consumer App", "Mobile Platform", "Onboarding", "Wallet"),
        core_skills=_split("swift; kotlin; ios; android; mobile ui; app store release; rest apis"),
        optional_skills=_split(
            "react native; flutter; swiftui; jetpack compose; firebase; ci/cd; typescript; "
            "accessibility; graphql; objective-c"
        ),
        salary=150_000,
        sectors=("tech", "retail", "finance", "healthcare"),
        remote_rate=0.22,
        weight=0.9,
        focus=(
            "native iOS and Android apps",
            "mobile apps used by millions of people",
            "cross-platform mobile development",
        ),
        duties=(
            "Build features in our iOS and Android apps, from first design to app store release.",
            "Write clean Swift and Kotlin with a modern UI stack: SwiftUI and Jetpack Compose.",
            "Keep the app fast, small and stable on older devices and poor networks.",
            "Own the release train: builds, beta testing, phased rollouts and crash triage.",
            "Work with designers on interactions and animations that feel native on each platform.",
            "Instrument features so product decisions are based on real usage.",
            "Add offline support and sync that behaves well when connectivity drops.",
            "Share patterns and tooling with the other mobile engineers across teams.",
        ),
        requirements=(
            "Shipped at least one app you can show us on the App Store or Google Play.",
            "A strong grasp of the iOS or Android platform, its lifecycle and its guidelines.",
            "Experience with automated tests and CI for mobile builds.",
            "Attention to performance, battery use and crash-free sessions.",
            "Familiarity with the other platform, or willingness to learn it.",
        ),
        experience=(
            "Shipped {n} releases of a consumer app while keeping crash-free sessions above 99%.",
            "Rewrote the onboarding flow in SwiftUI, improving completion by {pct}%.",
            "Migrated the Android app to Jetpack Compose screen by screen without a freeze.",
            "Added offline mode with background sync for {n} thousand daily users.",
            "Cut the app's cold start time by {pct}% by deferring non-critical work.",
            "Set up CI with automated UI tests and phased releases for both platforms.",
            "Built a shared React Native module used by {n} product teams.",
            "Ran crash triage and lowered the weekly crash count by {pct}%.",
        ),
    ),
    Family(
        key="devops_sre",
        titles=_split(
            "Site Reliability Engineer; DevOps Engineer; Platform Engineer; "
            "Cloud Infrastructure Engineer; Infrastructure Engineer"
        ),
        teams=("Platform", "Reliability", "Cloud Infrastructure", "Developer Productivity"),
        core_skills=_split(
            "kubernetes; terraform; aws; linux; ci/cd; prometheus; incident response; docker"
        ),
        optional_skills=_split(
            "grafana; helm; ansible; gcp; azure; python; go; bash; observability; argo cd; "
            "networking"
        ),
        salary=160_000,
        sectors=("tech", "finance", "retail", "logistics"),
        remote_rate=0.26,
        weight=1.1,
        focus=(
            "cloud infrastructure and Kubernetes",
            "reliability, observability and incident response",
            "infrastructure as code and deployment pipelines",
        ),
        duties=(
            "Run our Kubernetes platform and make it easy for teams to deploy safely.",
            "Manage cloud infrastructure as code with Terraform, reviewed like any other code.",
            "Define service level objectives with teams and alert on what users actually feel.",
            "Lead incident response and write blameless post-mortems that lead to real fixes.",
            "Build CI/CD pipelines that take a commit to production in minutes.",
            "Improve observability: metrics, logs and traces that answer questions quickly.",
            "Plan capacity and keep the cloud bill in check without hurting reliability.",
            "Automate toil away, from certificate rotation to database failover drills.",
            "Harden the platform with the security team: least privilege, patching, secrets.",
        ),
        requirements=(
            "Solid Linux and networking fundamentals.",
            "Experience running Kubernetes in production, including upgrades.",
            "Infrastructure as code experience with Terraform or a similar tool.",
            "Calm under pressure during incidents, and methodical afterwards.",
            "Scripting or programming skills in Python, Go or Bash.",
        ),
        experience=(
            "Migrated {n} services from VMs to Kubernetes with no customer-facing downtime.",
            "Introduced SLOs and error budgets, reducing paging noise by {pct}%.",
            "Rebuilt the CI/CD pipeline, cutting deploy time by {pct}%.",
            "Managed {n} AWS accounts with Terraform modules and policy checks.",
            "Led incident response for a multi-region outage and the follow-up reliability work.",
            "Lowered cloud spend by {pct}% with rightsizing and reserved capacity.",
            "Set up Prometheus and Grafana dashboards used by every on-call engineer.",
            "Automated certificate rotation and database failover drills.",
        ),
    ),
    Family(
        key="security",
        titles=_split(
            "Security Engineer; Application Security Engineer; Security Analyst; "
            "Cloud Security Engineer; Penetration Tester"
        ),
        teams=("Product Security", "Security Operations", "Cloud Security", "Detection"),
        core_skills=_split(
            "threat modeling; incident response; siem; vulnerability management; network security; "
            "iam; cloud security; penetration testing"
        ),
        optional_skills=_split(
            "python; aws; soc 2; iso 27001; splunk; burp suite; kubernetes; linux; zero trust; "
            "cryptography; owasp"
        ),
        salary=165_000,
        sectors=("tech", "finance", "healthcare"),
        remote_rate=0.19,
        weight=0.8,
        focus=(
            "application and cloud security",
            "detection engineering and incident response",
            "threat modelling and vulnerability management",
        ),
        duties=(
            "Threat model new features with engineers before they are built, not after.",
            "Run the vulnerability management programme, from scanning to verified fixes.",
            "Build detections in our SIEM and respond to the alerts they raise.",
            "Review cloud configurations and IAM policies for excessive access.",
            "Perform penetration tests of our web applications and APIs.",
            "Lead security incident response and coordinate with legal and communications.",
            "Support audits such as SOC 2 and ISO 27001 with evidence that is real, not theatre.",
            "Teach engineers secure coding practices through reviews and short workshops.",
        ),
        requirements=(
            "A broad understanding of web application vulnerabilities, such as the OWASP Top 10.",
            "Experience securing cloud environments and identity systems.",
            "Hands-on incident response or security operations experience.",
            "Ability to explain risk to engineers and executives in their own terms.",
            "Scripting skills to automate detections and checks.",
        ),
        experience=(
            "Threat modelled {n} product launches and tracked every finding to closure.",
            "Built {n} SIEM detections that cut mean time to detect by {pct}%.",
            "Led the response to a credential-stuffing attack and rolled out MFA company-wide.",
            "Reduced open critical vulnerabilities by {pct}% with automated scanning and SLAs.",
            "Tightened IAM policies across {n} cloud accounts using access analysis.",
            "Performed penetration tests of web apps and APIs and coached teams on the fixes.",
            "Prepared evidence for the first SOC 2 Type II audit, passed without exceptions.",
            "Ran secure coding workshops for {n} engineers.",
        ),
    ),
    Family(
        key="product_management",
        titles=_split(
            "Product Manager; Technical Product Manager; Product Owner; Growth Product Manager; "
            "Platform Product Manager"
        ),
        teams=("Growth", "Payments", "Developer Platform", "Onboarding", "Enterprise"),
        core_skills=_split(
            "product strategy; roadmapping; user research; stakeholder management; a/b testing; "
            "prioritization; agile; product analytics"
        ),
        optional_skills=_split(
            "sql; jira; figma; amplitude; okrs; go-to-market; pricing; b2b saas; api products; "
            "data literacy"
        ),
        salary=160_000,
        sectors=("tech", "finance", "retail", "healthcare"),
        remote_rate=0.18,
        weight=1.0,
        focus=(
            "B2B and consumer product management",
            "discovery, prioritisation and roadmaps",
            "growth and monetisation products",
        ),
        duties=(
            "Own the roadmap for your product area and explain the reasoning behind it.",
            "Talk to customers every week and turn what you learn into clear problem statements.",
            "Prioritise ruthlessly with engineering and design, trading scope for time to value.",
            "Define success metrics up front and check them after every launch.",
            "Write crisp product requirements that leave room for the team's judgement.",
            "Coordinate launches with marketing, sales and support so customers hear one story.",
            "Keep stakeholders informed without letting them design the product by committee.",
            "Use experiments and product analytics to decide what to build next.",
        ),
        requirements=(
            "A track record of shipping products that customers use and pay for.",
            "Comfort with data: you can write a query or read a dashboard critically.",
            "Excellent written communication and the ability to align people with different goals.",
            "Enough technical depth to discuss trade-offs with engineers.",
            "Experience running discovery with real customers.",
        ),
        experience=(
            "Owned the onboarding roadmap and raised week-one retention by {pct}%.",
            "Launched a usage-based pricing model that grew revenue per account by {pct}%.",
            "Interviewed {n} customers to reframe the product around their real workflow.",
            "Led a cross-functional team of {n} engineers and designers through three launches.",
            "Introduced an experimentation culture with weekly product reviews.",
            "Retired {n} low-value features to free up engineering capacity.",
            "Wrote the product strategy that secured funding for a new platform team.",
            "Coordinated an enterprise launch with sales, marketing and support.",
        ),
    ),
    Family(
        key="ux_design",
        titles=_split(
            "UX Designer; Product Designer; UX Researcher; Interaction Designer; UI/UX Designer"
        ),
        teams=("Design Systems", "Core Experience", "Mobile", "Research"),
        core_skills=_split(
            "figma; user research; prototyping; interaction design; usability testing; "
            "design systems; wireframing; information architecture"
        ),
        optional_skills=_split(
            "accessibility; visual design; sketch; html; css; journey mapping; ux writing; "
            "motion design; adobe creative suite; service design"
        ),
        salary=135_000,
        sectors=("tech", "retail", "finance", "healthcare"),
        remote_rate=0.25,
        weight=0.9,
        focus=(
            "user-centred product design",
            "research, prototyping and usability testing",
            "interaction design and design systems",
        ),
        duties=(
            "Design end-to-end experiences, from rough flows to polished, tested interfaces.",
            "Plan and run user interviews and usability tests, and share what you learn.",
            "Prototype ideas quickly in Figma to test them before anything is built.",
            "Contribute to the design system so the product looks and behaves consistently.",
            "Work with product managers and engineers from discovery through delivery.",
            "Map customer journeys to find the moments where people get stuck.",
            "Advocate for accessibility and inclusive design in every review.",
            "Present design rationale clearly and take critique with curiosity.",
        ),
        requirements=(
            "A portfolio that shows your process, not only the final screens.",
            "Strong interaction design skills and a good sense of visual hierarchy.",
            "Experience planning and running qualitative research.",
            "Fluency in Figma, including components and auto layout.",
            "Comfort working with engineers and understanding technical constraints.",
        ),
        experience=(
            "Redesigned the sign-up flow after {n} usability sessions, raising completion {pct}%.",
            "Built the design system's component library in Figma with {n} documented components.",
            "Ran a research programme with {n} interviews that reshaped the product roadmap.",
            "Designed a mobile banking app from first sketches to launch.",
            "Introduced journey maps that exposed the support-heavy steps of onboarding.",
            "Led accessibility reviews, bringing the main flows to WCAG AA.",
            "Prototyped and tested {n} concepts for a new dashboard before development began.",
            "Mentored junior designers on critique, research and presenting work.",
        ),
    ),
    Family(
        key="qa",
        titles=_split(
            "QA Engineer; Test Automation Engineer; Software Development Engineer in Test; "
            "QA Analyst; Quality Engineer"
        ),
        teams=("Web", "Mobile", "Payments", "Platform"),
        core_skills=_split(
            "test automation; selenium; cypress; test planning; regression testing; api testing; "
            "bug tracking; python"
        ),
        optional_skills=_split(
            "playwright; java; jira; ci/cd; performance testing; jmeter; postman; appium; sql; "
            "accessibility"
        ),
        salary=115_000,
        sectors=("tech", "finance", "retail", "healthcare"),
        remote_rate=0.22,
        weight=0.8,
        focus=(
            "test automation and quality engineering",
            "regression, API and end-to-end testing",
            "release quality for web and mobile products",
        ),
        duties=(
            "Build and maintain automated end-to-end tests that run on every pull request.",
            "Write test plans for new features together with developers and product managers.",
            "Test APIs directly, including error cases and contract changes.",
            "Own regression testing before releases and decide, with the team, when to ship.",
            "Track down flaky tests and fix the cause rather than adding retries.",
            "Run performance and load tests ahead of peak traffic.",
            "Report bugs that developers can reproduce on the first try.",
            "Coach developers on writing testable code and good unit tests.",
        ),
        requirements=(
            "Experience with test automation frameworks such as Cypress, Playwright or Selenium.",
            "Programming skills in Python, Java or JavaScript.",
            "A methodical, curious mind that enjoys finding edge cases.",
            "Understanding of CI pipelines and how tests fit into them.",
            "Clear bug reports and good communication with developers.",
        ),
        experience=(
            "Automated {n} regression test cases, cutting manual release testing by {pct}%.",
            "Moved the end-to-end suite from Selenium to Playwright and halved its run time.",
            "Reduced flaky tests from {pct}% of runs to almost none by fixing test isolation.",
            "Built an API contract test suite that blocked {n} breaking changes.",
            "Ran load tests with JMeter ahead of the holiday peak and found two bottlenecks.",
            "Wrote test plans for a payments launch with {n} edge cases.",
            "Set up mobile test automation with Appium on a device farm.",
            "Introduced quality metrics that the team reviews at every retrospective.",
        ),
    ),
    Family(
        key="sales",
        titles=_split(
            "Account Executive; Sales Development Representative; Enterprise Account Executive; "
            "Sales Manager; Business Development Manager"
        ),
        teams=("Mid-Market", "Enterprise", "EMEA", "North America", "New Business"),
        core_skills=_split(
            "b2b sales; salesforce; pipeline management; negotiation; prospecting; "
            "account management; crm; quota attainment"
        ),
        optional_skills=_split(
            "saas; solution selling; meddic; hubspot; cold calling; contract negotiation; "
            "forecasting; linkedin sales navigator; enterprise sales; presentation skills"
        ),
        salary=120_000,
        sectors=("tech", "finance", "logistics", "retail"),
        remote_rate=0.13,
        weight=1.0,
        focus=(
            "B2B software sales",
            "building and closing pipeline",
            "enterprise deals with long sales cycles",
        ),
        duties=(
            "Own a territory and a quota, and build the pipeline to exceed it.",
            "Prospect into new accounts by phone, email and LinkedIn.",
            "Run discovery calls that uncover the customer's real business problem.",
            "Lead demos and proposals with support from solutions engineers.",
            "Negotiate contracts and pricing with procurement and legal teams.",
            "Keep Salesforce accurate so forecasts can be trusted.",
            "Work with marketing on campaigns and events for your territory.",
            "Hand over closed customers to customer success with full context.",
        ),
        requirements=(
            "A track record of meeting or exceeding quota in B2B sales.",
            "Confidence on the phone and in front of senior buyers.",
            "Disciplined pipeline management in a CRM.",
            "Resilience and a competitive but collaborative attitude.",
            "Familiarity with a structured sales methodology such as MEDDIC.",
        ),
        experience=(
            "Closed {pct}% above quota for three consecutive years in the mid-market segment.",
            "Built a pipeline of {n} qualified opportunities from cold outreach in one quarter.",
            "Closed the largest new-logo deal in the company's history.",
            "Managed a book of {n} accounts with net revenue retention above 110%.",
            "Introduced MEDDIC qualification, improving forecast accuracy by {pct}%.",
            "Negotiated multi-year contracts with enterprise procurement teams.",
            "Trained {n} sales development representatives on discovery calls.",
            "Opened a new regional territory and signed the first {n} customers there.",
        ),
    ),
    Family(
        key="marketing",
        titles=_split(
            "Marketing Manager; Content Marketing Manager; Digital Marketing Specialist; "
            "Growth Marketer; Product Marketing Manager; SEO Specialist"
        ),
        teams=("Demand Generation", "Brand", "Lifecycle", "Content"),
        core_skills=_split(
            "content marketing; seo; google analytics; campaign management; social media; "
            "email marketing; copywriting; brand strategy"
        ),
        optional_skills=_split(
            "hubspot; paid search; marketing automation; a/b testing; sql; product marketing; "
            "go-to-market; salesforce; canva; market research"
        ),
        salary=115_000,
        sectors=("tech", "retail", "finance", "healthcare"),
        remote_rate=0.19,
        weight=1.0,
        focus=(
            "content, SEO and demand generation",
            "campaigns across email, social and paid channels",
            "product marketing and positioning",
        ),
        duties=(
            "Plan and run campaigns across email, social, paid and organic channels.",
            "Write and edit content that ranks, gets shared and brings in qualified leads.",
            "Own the marketing calendar and coordinate with sales on launches.",
            "Measure campaign performance and move budget to what works.",
            "Improve SEO through technical fixes, content briefs and link building.",
            "Develop positioning and messaging for new products with product managers.",
            "Run A/B tests on landing pages, subject lines and ads.",
            "Manage agencies and freelancers to a clear brief and budget.",
        ),
        requirements=(
            "Experience running multi-channel campaigns with measurable results.",
            "Excellent writing and an ear for a brand's voice.",
            "Comfort with analytics tools and marketing automation platforms.",
            "A test-and-learn mindset and the discipline to measure it.",
            "Ability to manage several projects and stakeholders at once.",
        ),
        experience=(
            "Grew organic traffic by {pct}% in a year with a content and SEO programme.",
            "Ran lifecycle email campaigns that lifted trial-to-paid conversion by {pct}%.",
            "Managed a paid media budget of {n} thousand dollars a quarter.",
            "Launched {n} products with positioning, messaging and sales enablement.",
            "Built the newsletter from zero to {n} thousand subscribers.",
            "Reduced cost per lead by {pct}% by reallocating spend across channels.",
            "Rebranded the company with an agency, from research to launch.",
            "Set up marketing attribution in HubSpot and Google Analytics.",
        ),
    ),
    Family(
        key="finance",
        titles=_split(
            "Financial Analyst; Accountant; FP&A Analyst; Controller; Accounts Payable Specialist"
        ),
        teams=("FP&A", "Accounting", "Revenue", "Treasury"),
        core_skills=_split(
            "financial modeling; excel; accounting; gaap; budgeting; forecasting; "
            "financial reporting; reconciliation"
        ),
        optional_skills=_split(
            "sap; netsuite; ifrs; sql; tax; audit; variance analysis; power bi; cpa; treasury"
        ),
        salary=110_000,
        sectors=("finance", "tech", "retail", "healthcare", "logistics"),
        remote_rate=0.13,
        weight=1.0,
        focus=(
            "financial planning and analysis",
            "accounting, month-end close and reporting",
            "budgeting, forecasting and variance analysis",
        ),
        duties=(
            "Build and maintain the financial model behind our budget and forecasts.",
            "Run parts of the month-end close, including journal entries and reconciliations.",
            "Prepare financial statements and management reports under GAAP or IFRS.",
            "Analyse variances against budget and explain them to department heads.",
            "Support the annual budgeting process and quarterly reforecasts.",
            "Work with auditors and provide clear, well-organised schedules.",
            "Improve controls and automate manual spreadsheet work.",
            "Partner with business leaders on pricing, hiring plans and investment cases.",
        ),
        requirements=(
            "Strong Excel or Google Sheets modelling skills.",
            "A solid understanding of accounting principles and the three financial statements.",
            "Attention to detail and comfort with deadlines at month end.",
            "Experience with an ERP system such as NetSuite or SAP.",
            "A CPA, ACCA or progress towards one is a plus.",
        ),
        experience=(
            "Built the three-statement model used for the company's annual budget.",
            "Shortened the month-end close to five working days by automating reconciliations.",
            "Prepared monthly management accounts and board reporting packs.",
            "Analysed budget variances across {n} cost centres and explained them to leaders.",
            "Supported two external audits with no material findings.",
            "Migrated the general ledger from spreadsheets to NetSuite.",
            "Cut days sales outstanding by {pct}% with a new collections process.",
            "Modelled the business case for a new market entry, approved by the board.",
        ),
    ),
    Family(
        key="nursing",
        titles=_split(
            "Registered Nurse; ICU Nurse; Emergency Room Nurse; Pediatric Nurse; Clinical Nurse; "
            "Nurse Practitioner"
        ),
        teams=("Intensive Care", "Emergency Department", "Medical-Surgical", "Pediatrics"),
        core_skills=_split(
            "patient care; clinical assessment; medication administration; "
            "electronic health records; bls; acls; care planning; infection control"
        ),
        optional_skills=_split(
            "epic; icu; emergency nursing; pediatrics; telemetry; wound care; triage; "
            "patient education; iv therapy; charge nurse"
        ),
        salary=95_000,
        sectors=("healthcare",),
        remote_rate=0.02,
        weight=1.0,
        focus=(
            "acute and critical patient care",
            "emergency and trauma nursing",
            "paediatric and family-centred care",
        ),
        duties=(
            "Provide safe, compassionate care to patients on a busy unit.",
            "Assess patients, plan care and document it accurately in the electronic record.",
            "Administer medications and IV therapy following protocols and physician orders.",
            "Monitor vital signs and escalate changes in a patient's condition promptly.",
            "Educate patients and families about diagnoses, medications and discharge plans.",
            "Work with physicians, therapists and social workers as part of the care team.",
            "Follow infection control practices and help keep the unit safe.",
            "Precept new nurses and students on the unit.",
        ),
        requirements=(
            "A current registered nurse licence in good standing.",
            "Current BLS certification; ACLS or PALS depending on the unit.",
            "Strong clinical judgement and calm under pressure.",
            "Experience charting in Epic or a similar electronic health record.",
            "Willingness to work twelve-hour shifts, including nights and weekends.",
        ),
        experience=(
            "Cared for five to six patients per shift on a busy medical-surgical unit.",
            "Worked in a level I trauma emergency department, triaging walk-in patients.",
            "Served as charge nurse, coordinating staffing and bed flow for the unit.",
            "Precepted {n} new graduate nurses through their orientation.",
            "Led a falls prevention project that reduced patient falls by {pct}%.",
            "Managed ventilated and post-operative patients in a {n}-bed ICU.",
            "Educated families on discharge plans and medications, cutting readmissions.",
            "Joined the unit's infection control committee and audited hand hygiene.",
        ),
    ),
    Family(
        key="hr",
        titles=_split(
            "HR Generalist; Recruiter; Technical Recruiter; HR Business Partner; "
            "People Operations Specialist; Talent Acquisition Partner"
        ),
        teams=("People", "Talent Acquisition", "People Operations"),
        core_skills=_split(
            "recruiting; employee relations; hris; onboarding; compensation and benefits; "
            "performance management; labor law; talent acquisition"
        ),
        optional_skills=_split(
            "workday; greenhouse; shrm-cp; diversity and inclusion; learning and development; "
            "payroll; excel; succession planning; people analytics; stakeholder management"
        ),
        salary=100_000,
        sectors=("tech", "healthcare", "retail", "finance", "logistics"),
        remote_rate=0.16,
        weight=0.9,
        focus=(
            "recruiting and talent acquisition",
            "employee relations and HR operations",
            "people programmes: performance, compensation and development",
        ),
        duties=(
            "Run full-cycle recruiting, from intake meetings with hiring managers to offers.",
            "Advise managers on employee relations issues fairly and consistently.",
            "Own onboarding so new hires are productive and welcome from day one.",
            "Run performance review cycles and help managers give useful feedback.",
            "Keep the HRIS accurate and produce people reports for leadership.",
            "Support compensation reviews, benefits enrolment and policy updates.",
            "Make sure our practices comply with employment law in each country we hire.",
            "Contribute to diversity and inclusion programmes with measurable goals.",
        ),
        requirements=(
            "Experience in a generalist HR or recruiting role in a growing company.",
            "Working knowledge of employment law and good judgement on sensitive matters.",
            "Excellent communication and discretion with confidential information.",
            "Experience with an HRIS or applicant tracking system such as Workday or Greenhouse.",
            "An organised approach to running processes with many stakeholders.",
        ),
        experience=(
            "Hired {n} engineers and product people in one year as a technical recruiter.",
            "Reduced time to hire by {pct}% with structured interviews and a cleaner pipeline.",
            "Handled employee relations cases for a workforce of {n} people.",
            "Rolled out Workday as the company's HRIS, including data migration.",
            "Redesigned onboarding, lifting new-hire satisfaction scores by {pct}%.",
            "Ran two performance review cycles and trained managers on calibration.",
            "Benchmarked compensation for {n} roles and introduced salary bands.",
            "Launched an inclusive hiring programme with measurable diversity goals.",
        ),
    ),
    Family(
        key="customer_support",
        titles=_split(
            "Customer Support Specialist; Technical Support Engineer; Customer Success Manager; "
            "Support Agent; Help Desk Technician"
        ),
        teams=("Customer Care", "Technical Support", "Customer Success", "Tier 2 Support"),
        core_skills=_split(
            "customer service; zendesk; troubleshooting; ticket management; communication; crm; "
            "knowledge base; sla management"
        ),
        optional_skills=_split(
            "salesforce; intercom; sql; customer success; onboarding; escalation management; jira; "
            "live chat; multilingual support; account management"
        ),
        salary=65_000,
        sectors=("tech", "retail", "finance", "logistics", "healthcare"),
        remote_rate=0.31,
        weight=1.0,
        focus=(
            "customer support and troubleshooting",
            "customer success and account health",
            "technical support for software products",
        ),
        duties=(
            "Answer customer questions by email, chat and phone with patience and clarity.",
            "Troubleshoot technical issues and reproduce bugs for the engineering team.",
            "Manage your ticket queue within our service level agreements.",
            "Write and update knowledge base articles so customers can help themselves.",
            "Escalate complex issues with a clear summary and the steps already taken.",
            "Spot recurring problems and share them with product teams.",
            "Help new customers get set up and get value from the product quickly.",
            "Keep customer records in the CRM complete and up to date.",
        ),
        requirements=(
            "Experience in a customer-facing support or service role.",
            "Clear, friendly written communication.",
            "A logical approach to troubleshooting and the patience to see it through.",
            "Experience with a help desk tool such as Zendesk or Intercom.",
            "Willingness to work in shifts that cover our customers' time zones.",
        ),
        experience=(
            "Resolved about {n} tickets a day while keeping satisfaction scores above 90%.",
            "Wrote {n} knowledge base articles that reduced repeat tickets noticeably.",
            "Handled tier 2 escalations, reproducing bugs and working with engineers on fixes.",
            "Onboarded {n} new business customers and ran their first-month check-ins.",
            "Cut first response time by {pct}% by reorganising the queue and macros.",
            "Supported customers in English and Spanish over chat, email and phone.",
            "Managed a book of {n} accounts and improved renewal rates as a success manager.",
            "Trained new support agents on the product and the help desk tooling.",
        ),
    ),
    Family(
        key="legal",
        titles=_split(
            "Corporate Counsel; Paralegal; Legal Counsel; Contracts Manager; Compliance Officer; "
            "Privacy Counsel"
        ),
        teams=("Commercial", "Privacy", "Corporate", "Regulatory"),
        core_skills=_split(
            "contract drafting; legal research; compliance; negotiation; corporate law; gdpr; "
            "litigation support; due diligence"
        ),
        optional_skills=_split(
            "intellectual property; employment law; m&a; privacy; westlaw; regulatory affairs; "
            "commercial contracts; data protection; risk management; soc 2"
        ),
        salary=150_000,
        sectors=("law", "tech", "finance", "healthcare"),
        remote_rate=0.11,
        weight=0.8,
        focus=(
            "commercial contracts and corporate law",
            "privacy, data protection and regulatory compliance",
            "legal research and litigation support",
        ),
        duties=(
            "Draft, review and negotiate commercial contracts with customers and suppliers.",
            "Advise teams on legal risk in plain language and propose practical options.",
            "Run the privacy programme, including data protection impact assessments.",
            "Keep corporate records, board minutes and entity filings in order.",
            "Support due diligence for financings and acquisitions.",
            "Research legal questions and write concise memos with clear recommendations.",
            "Monitor regulatory changes and update policies and training accordingly.",
            "Manage outside counsel on litigation and specialist matters, to a budget.",
        ),
        requirements=(
            "A law degree and admission to the bar, or paralegal qualifications for that role.",
            "Experience with commercial contracts in a company or law firm.",
            "Working knowledge of GDPR and other data protection rules.",
            "Sound judgement and the ability to prioritise a high volume of requests.",
            "Precise writing and careful attention to detail.",
        ),
        experience=(
            "Negotiated more than {n} commercial agreements with enterprise customers a year.",
            "Built the contract playbook that cut legal review time by {pct}%.",
            "Ran the GDPR programme, including records of processing and impact assessments.",
            "Supported due diligence on {n} acquisitions, from data room to closing.",
            "Drafted board minutes and maintained records for {n} group entities.",
            "Managed outside counsel on employment and IP disputes within budget.",
            "Researched regulatory questions and wrote memos for the executive team.",
            "Trained {n} employees on anti-bribery and data protection policies.",
        ),
    ),
)

ROLE_FAMILIES: tuple[str, ...] = tuple(f.key for f in FAMILIES)
_FAMILY_BY_KEY = {f.key: f for f in FAMILIES}

# Seniority mix of postings: most openings are mid or senior.
_POSTING_SENIORITY_WEIGHTS = (0.05, 0.15, 0.3, 0.3, 0.12, 0.08)
_SALARY_FACTOR = {
    "intern": 0.35,
    "junior": 0.7,
    "mid": 1.0,
    "senior": 1.3,
    "lead": 1.5,
    "principal": 1.75,
}
_YEARS = {
    "intern": (0, 1),
    "junior": (0, 2),
    "mid": (2, 5),
    "senior": (5, 9),
    "lead": (8, 14),
    "principal": (12, 25),
}
# Every level has a visible marker, so a reader (and the retrieval) can tell levels apart.
_TITLE_FORMS = {
    "intern": ("{t} Intern",),
    "junior": ("Junior {t}", "Entry-Level {t}"),
    "mid": ("{t} II", "Mid-Level {t}"),
    "senior": ("Senior {t}", "Sr. {t}"),
    "lead": ("Lead {t}", "{t} Team Lead"),
    "principal": ("Principal {t}",),
}


@dataclass(frozen=True)
class City:
    """A place postings and people are in; cost scales salaries."""

    name: str
    country: str
    cost: float

    @property
    def label(self) -> str:
        """How the location is written on a posting or resume."""
        return f"{self.name}, {self.country}"


CITIES: tuple[City, ...] = (
    City("San Francisco", "United States", 1.25),
    City("New York", "United States", 1.2),
    City("Seattle", "United States", 1.15),
    City("Boston", "United States", 1.1),
    City("Austin", "United States", 1.0),
    City("Chicago", "United States", 1.0),
    City("Denver", "United States", 0.97),
    City("Atlanta", "United States", 0.92),
    City("Raleigh", "United States", 0.9),
    City("Pittsburgh", "United States", 0.86),
    City("Toronto", "Canada", 0.82),
    City("Vancouver", "Canada", 0.82),
    City("Montreal", "Canada", 0.75),
    City("London", "United Kingdom", 0.92),
    City("Manchester", "United Kingdom", 0.72),
    City("Edinburgh", "United Kingdom", 0.72),
    City("Dublin", "Ireland", 0.85),
    City("Berlin", "Germany", 0.78),
    City("Munich", "Germany", 0.86),
    City("Hamburg", "Germany", 0.78),
    City("Amsterdam", "Netherlands", 0.82),
    City("Paris", "France", 0.78),
    City("Lyon", "France", 0.66),
    City("Madrid", "Spain", 0.6),
    City("Barcelona", "Spain", 0.6),
    City("Stockholm", "Sweden", 0.78),
    City("Warsaw", "Poland", 0.5),
    City("Bangalore", "India", 0.3),
    City("Hyderabad", "India", 0.28),
    City("Pune", "India", 0.27),
    City("Singapore", "Singapore", 0.92),
    City("Sydney", "Australia", 0.88),
    City("Melbourne", "Australia", 0.84),
    City("Tokyo", "Japan", 0.75),
    City("São Paulo", "Brazil", 0.35),
)

_COUNTRY_COST = {
    country: sum(c.cost for c in CITIES if c.country == country)
    / sum(1 for c in CITIES if c.country == country)
    for country in dict.fromkeys(c.country for c in CITIES)
}

# Company names are composed: a root from two halves, then a sector-specific ending.
_NAME_HEADS = _split(
    "North; Blue; Silver; Bright; Cedar; Iron; Red; Oak; Clear; Stone; River; Summit; Green; Star; "
    "Harbor; Maple; Golden; Swift; True; Wild; Lumen; Nova; Terra; Atlas"
)
_NAME_TAILS = _split(
    "wind; field; stone; wave; bridge; path; point; light; gate; line; peak; brook; forge; vale; "
    "crest; works"
)
_SECTOR_ENDINGS = {
    "tech": (
        "Labs",
        "Software",
        "Systems",
        "AI",
        "Cloud",
        "Technologies",
        "Data",
        "Analytics",
        "",
    ),
    "finance": ("Capital", "Bank", "Financial", "Insurance", "Payments", "Wealth"),
    "retail": ("Retail", "Brands", "Foods", "Goods", "Outfitters", "Market"),
    "healthcare": ("Health", "Medical Center", "Clinics", "Care", "Hospital"),
    "logistics": ("Logistics", "Freight", "Shipping", "Supply"),
}
_SURNAMES = _split(
    "Adler; Baker; Castillo; Dunn; Eriksen; Fischer; Grant; Hale; Ito; Jansen; Kaur; Lindqvist; "
    "Moreau; Novak; Okafor; Patel; Quinn; Rossi; Sato; Tan; Usman; Vogel; Weiss; Young"
)
_SECTOR_ROSTER_SIZE = {
    "tech": 140,
    "finance": 50,
    "retail": 40,
    "healthcare": 50,
    "logistics": 25,
    "law": 25,
}
_PRODUCTS = {
    "tech": (
        "payroll software for small businesses",
        "a developer platform for shipping APIs",
        "supply-chain visibility tools",
        "an online learning platform",
        "collaboration software for distributed teams",
        "a travel booking marketplace",
        "analytics for e-commerce brands",
        "a home energy management app",
        "identity and access management for enterprises",
        "a food delivery marketplace",
        "customer support software",
        "a real-estate listings platform",
    ),
    "finance": (
        "digital banking for consumers and small businesses",
        "commercial lending",
        "insurance for renters and homeowners",
        "card payments for merchants",
        "retirement savings and wealth management",
    ),
    "retail": (
        "outdoor clothing and gear",
        "groceries, in stores and online",
        "home furnishings",
        "consumer electronics",
        "beauty and personal care products",
    ),
    "healthcare": (
        "acute and community care",
        "primary care clinics",
        "specialist paediatric care",
        "rehabilitation and long-term care",
        "telehealth and outpatient services",
    ),
    "logistics": (
        "freight forwarding",
        "last-mile delivery",
        "warehousing and fulfilment",
        "cold-chain transport",
    ),
    "law": (
        "corporate and commercial law",
        "technology and privacy law",
        "employment and regulatory matters",
        "mergers, acquisitions and venture financing",
    ),
}
_ABOUT = {
    "tech": (
        "{company} builds {product}. Founded in {founded} and based in {city}, "
        "we are a team of {size} people.",
        "At {company} we make {product}. We are {size} people, headquartered in {city}, "
        "and growing steadily since {founded}.",
        "{company} is a {size}-person company in {city} that makes {product}, "
        "used by customers in more than {markets} countries.",
    ),
    "finance": (
        "{company} provides {product}. Since {founded} we have grown to {size} employees, "
        "with our main office in {city}.",
        "{company} is a regulated financial services company offering {product}, "
        "headquartered in {city}, with {size} colleagues.",
    ),
    "retail": (
        "{company} sells {product} through stores and online in {markets} countries. "
        "Our head office is in {city}.",
        "Since {founded}, {company} has brought {product} to customers. "
        "We employ {size} people, with a central team in {city}.",
    ),
    "healthcare": (
        "{company} provides {product} to the communities around {city}. "
        "Our {size} staff have cared for patients since {founded}.",
        "{company} is a not-for-profit provider of {product}, with sites across the "
        "{city} area and {size} employees.",
    ),
    "logistics": (
        "{company} specialises in {product}, moving goods for retailers and manufacturers "
        "in {markets} countries from our hub in {city}.",
        "Founded in {founded}, {company} runs {product} with {size} people and a "
        "head office in {city}.",
    ),
    "law": (
        "{company} is a law firm of {size} people in {city}, advising clients on {product} "
        "since {founded}.",
        "{company} advises growth companies and investors on {product}. Our office is in {city}.",
    ),
}
_MISSION = (
    "We care about doing a few things very well.",
    "Our customers stay with us because we listen to them.",
    "We are profitable and invest in long-term work.",
    "We work in small teams with a lot of ownership.",
    "Our work is used every day by people who rely on it.",
    "We value clear writing, kindness and getting things done.",
)
_ROLE_OPENERS = (
    "As {a_title}, you will:",
    "In this role you will join the {team} team. You will:",
    "We are hiring {a_title} to join our {team} team. Day to day, you will:",
    "What you will do:",
)
_BENEFITS = (
    "We offer a competitive salary and an annual bonus.",
    "Health, dental and vision cover for you and your family.",
    "A learning budget for courses, books and conferences.",
    "Twenty-five days of paid holiday plus public holidays.",
    "A generous pension or retirement plan with employer matching.",
    "Paid parental leave for every parent.",
    "Flexible working hours that fit around your life.",
    "A home office allowance for the equipment you need.",
    "Wellbeing support, including counselling sessions.",
    "Equity, so you share in the company's success.",
    "A yearly offsite where the whole company meets.",
)
_FIRST_NAMES = _split(
    "Aisha; Ben; Carla; Daniel; Elena; Farid; Grace; Hiro; Ines; Jonas; Kavya; Liam; Maria; "
    "Nikolai; Olivia; Pedro; Qing; Rahul; Sofia; Tomás; Uchenna; Valentina; Wei; Ximena; Yusuf; "
    "Zoe; Amara; Bruno; Chloe; Dmitri; Emeka; Fatima; Gustav; Hana; Isaac; Julia; Kenji; Lucia; "
    "Mateo; Nadia"
)
_LAST_NAMES = _split(
    "Okafor; Schmidt; García; Nguyen; Kowalski; Haddad; Smith; Tanaka; Silva; Johansson; Iyer; "
    "O'Brien; Rossi; Petrov; Mensah; Chen; Dubois; Müller; Kim; Fernández; Brown; Novak; Ali; "
    "Larsen; Sharma; Costa; Walker; Yamamoto; Lopez; Ahmed"
)
_GOALS = (
    "Looking for a team where I can own problems end to end.",
    "I am looking for a role with more ownership and a product I believe in.",
    "Keen to join a company that values craft and clear communication.",
    "Open to new opportunities where I can keep learning from strong colleagues.",
    "Interested in mission-driven organisations with a healthy working culture.",
)
_SENIOR_GOALS = (
    "I enjoy mentoring others and raising the bar for the whole team.",
    "Looking for a leadership role where I can shape strategy as well as deliver.",
    "Most of my recent work has been growing people and setting direction across teams.",
)
_NOISE_SKILLS = _split(
    "excel; jira; public speaking; project management; git; spanish; german; mentoring; agile; "
    "communication"
)
_WORD_BOUNDS = (120, 300)
# Where career changers come from: moves people really make between neighbouring jobs.
_NEIGHBOURS = {
    "data_science": ("data_engineering", "ml_engineering", "finance", "backend"),
    "ml_engineering": ("data_science", "backend", "data_engineering"),
    "data_engineering": ("backend", "data_science", "devops_sre"),
    "backend": ("frontend", "devops_sre", "qa", "data_engineering"),
    "frontend": ("ux_design", "backend", "mobile"),
    "mobile": ("frontend", "backend"),
    "devops_sre": ("backend", "security", "customer_support"),
    "security": ("devops_sre", "backend", "legal"),
    "product_management": ("ux_design", "backend", "marketing", "data_science"),
    "ux_design": ("frontend", "marketing"),
    "qa": ("customer_support", "backend"),
    "sales": ("customer_support", "marketing"),
    "marketing": ("sales", "ux_design"),
    "finance": ("data_science", "sales", "legal"),
    "nursing": ("customer_support", "hr"),
    "hr": ("customer_support", "legal"),
    "customer_support": ("sales", "qa"),
    "legal": ("hr", "finance"),
}


@dataclass(frozen=True)
class Company:
    """A hiring company with the facts its postings repeat consistently."""

    name: str
    sector: str
    city: City
    size: int
    founded: int
    product: str
    markets: int


@dataclass
class Corpus:
    """A generated set of postings and resumes."""

    postings: list[JobPosting]
    resumes: list[Resume]


def generate_corpus(
    n_postings: int = 5000, n_resumes: int = 1000, seed: int = 7, *, career_changers: float = 0.0
) -> Corpus:
    """Generate postings and resumes; the same arguments always give the same corpus.

    Postings and resumes draw from separate random streams, so the resumes for a seed do not
    change with the number of postings (and vice versa). `career_changers` is the share of
    resumes whose past experience lies in a neighbouring family while they target (and are
    labelled with) another one: hard cases that make retrieval quality less of a formality.
    """
    if n_postings < 0 or n_resumes < 0:
        raise ValueError("corpus sizes must not be negative")
    if not 0.0 <= career_changers <= 1.0:
        raise ValueError("career_changers must be between 0 and 1")
    companies = _company_roster(random.Random(f"{seed}:companies"))
    by_sector: dict[str, list[Company]] = {}
    for company in companies:
        by_sector.setdefault(company.sector, []).append(company)
    posting_rng = random.Random(f"{seed}:postings")
    postings = [
        _posting(posting_rng, i + 1, family, by_sector)
        for i, family in enumerate(_family_sequence(posting_rng, n_postings))
    ]
    resume_rng = random.Random(f"{seed}:resumes")
    resumes = [
        _resume(resume_rng, i + 1, family, companies, career_changers)
        for i, family in enumerate(_family_sequence(resume_rng, n_resumes))
    ]
    return Corpus(postings=postings, resumes=resumes)


def write_corpus(corpus: Corpus, folder: Path | str) -> tuple[Path, Path]:
    """Write `postings.jsonl` and `resumes.jsonl` (the loader's format) into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / "postings.jsonl", folder / "resumes.jsonl")
    for path, docs in zip(paths, (corpus.postings, corpus.resumes), strict=True):
        with path.open("w", encoding="utf-8") as out:
            for doc in docs:
                out.write(json.dumps(doc.model_dump(mode="json"), ensure_ascii=False))
                out.write("\n")
    return paths


def _company_roster(rng: random.Random) -> list[Company]:
    roots = [head + tail for head in _NAME_HEADS for tail in _NAME_TAILS]
    rng.shuffle(roots)
    taken: set[str] = set()
    companies: list[Company] = []
    for sector, count in _SECTOR_ROSTER_SIZE.items():
        made = 0
        while made < count:
            if sector == "law":
                first, second = rng.sample(_SURNAMES, 2)
                name = f"{first} & {second} LLP"
            else:
                ending = rng.choice(_SECTOR_ENDINGS[sector])
                name = f"{roots.pop()} {ending}".strip()
            if name in taken:
                continue
            taken.add(name)
            made += 1
            companies.append(
                Company(
                    name=name,
                    sector=sector,
                    city=rng.choice(CITIES),
                    size=rng.choice((12, 25, 40, 80, 150, 300, 600, 1200, 2500, 8000)),
                    founded=rng.randint(1965, 2021),
                    product=rng.choice(_PRODUCTS[sector]),
                    markets=rng.randint(3, 40),
                )
            )
    return companies


def _family_sequence(rng: random.Random, n: int) -> list[Family]:
    """Families for n documents: each family at least once when n allows, then by weight."""
    base = list(FAMILIES[:n])
    rest = rng.choices(FAMILIES, weights=[f.weight for f in FAMILIES], k=n - len(base))
    sequence = base + rest
    rng.shuffle(sequence)
    return sequence


def _title(rng: random.Random, family: Family, seniority: str, *, with_team: bool) -> str:
    # "Software Engineer, Backend" takes its level on the part before the comma.
    head, _, specialty = rng.choice(family.titles).partition(", ")
    title = rng.choice(_TITLE_FORMS[seniority]).format(t=head)
    if specialty:
        title = f"{title}, {specialty}"
    elif with_team and rng.random() < 0.3:
        title = f"{title}, {rng.choice(family.teams)}"
    return title


def _pick_skills(rng: random.Random, family: Family, n_core: int, n_optional: int) -> list[str]:
    skills = rng.sample(family.core_skills, min(n_core, len(family.core_skills)))
    skills += rng.sample(family.optional_skills, min(n_optional, len(family.optional_skills)))
    return skills


def _salary(rng: random.Random, family: Family, seniority: str, cost: float) -> tuple[int, int]:
    low = family.salary * _SALARY_FACTOR[seniority] * cost * rng.uniform(0.9, 1.1)
    high = low * rng.uniform(1.12, 1.35)
    return round(low, -3), round(high, -3)


def _posting(
    rng: random.Random, number: int, family: Family, by_sector: dict[str, list[Company]]
) -> JobPosting:
    sector = _weighted_sector(rng, family)
    company = rng.choice(by_sector[sector])
    seniority = rng.choices(SENIORITY_LEVELS, weights=_POSTING_SENIORITY_WEIGHTS)[0]
    remote = rng.random() < family.remote_rate
    # Most postings are at the head office; some at another office; remote ones name a country.
    city = company.city if rng.random() < 0.6 else rng.choice(CITIES)
    if remote:
        location, cost = city.country, _COUNTRY_COST[city.country]
    else:
        location, cost = city.label, city.cost
    title = _title(rng, family, seniority, with_team=True)
    skills = _pick_skills(rng, family, rng.randint(4, 6), rng.randint(1, 3))
    has_salary = rng.random() < 0.88
    salary_min, salary_max = _salary(rng, family, seniority, cost) if has_salary else (None, None)
    description = _description(rng, family, company, title, seniority, skills, remote, city)
    return JobPosting(
        job_id=f"job-{number:06d}",
        title=title,
        company=company.name,
        location=location,
        remote=remote,
        seniority=seniority,
        role_family=family.key,
        skills=skills,
        salary_min=salary_min,
        salary_max=salary_max,
        description=description,
        posted_at=BASE_DATE - timedelta(days=rng.randrange(POSTING_WINDOW_DAYS)),
    )


def _weighted_sector(rng: random.Random, family: Family) -> str:
    # The first sector listed is the family's main employer; the rest share what is left.
    weights = [3.0] + [1.0] * (len(family.sectors) - 1)
    return rng.choices(family.sectors, weights=weights)[0]


def _description(
    rng: random.Random,
    family: Family,
    company: Company,
    title: str,
    seniority: str,
    skills: list[str],
    remote: bool,
    city: City,
) -> str:
    about = rng.choice(_ABOUT[company.sector]).format(
        company=company.name,
        product=company.product,
        city=company.city.name,
        size=f"{company.size:,}",
        founded=company.founded,
        markets=company.markets,
    )
    about += " " + rng.choice(_MISSION)
    opener = rng.choice(_ROLE_OPENERS).format(
        a_title=_with_article(title), team=rng.choice(family.teams)
    )
    duties = rng.sample(family.duties, len(family.duties))
    n_duties = rng.randint(3, 5)
    requirements = _requirements(rng, family, seniority, skills)
    optional = [s for s in family.optional_skills if s not in skills]
    nice = ""
    if optional and rng.random() < 0.6:
        extra = rng.sample(optional, min(2, len(optional)))
        nice = f"Nice to have: experience with {' or '.join(extra)}. " + rng.choice(
            (
                "If you do not tick every box, apply anyway; we care most about how you think.",
                "None of these are required on day one.",
                "We will help you learn what you have not used yet.",
            )
        )
    benefits = ""
    if rng.random() < 0.85:
        where = (
            f"This role is fully remote within {city.country}, with a team meetup twice a year."
            if remote
            else f"This role is based in {city.name}, with {rng.randint(2, 4)} office days a week."
        )
        benefits = " ".join([where, *rng.sample(_BENEFITS, rng.randint(2, 3))])

    def compose(k: int) -> str:
        role = opener + " " + " ".join(duties[:k])
        return "\n\n".join(p for p in (about, role, requirements, nice, benefits) if p)

    text = compose(n_duties)
    # Keep every description within the word budget by trading duty sentences.
    while len(text.split()) < _WORD_BOUNDS[0] and n_duties < len(duties):
        n_duties += 1
        text = compose(n_duties)
    while len(text.split()) > _WORD_BOUNDS[1] and n_duties > 2:
        n_duties -= 1
        text = compose(n_duties)
    return text


def _requirements(rng: random.Random, family: Family, seniority: str, skills: list[str]) -> str:
    focus = rng.choice(family.focus)
    low = _YEARS[seniority][0]
    years = {
        "intern": f"You are studying towards a degree or have just finished one, "
        f"and you are curious about {focus}.",
        "junior": f"You have up to two years of experience, from a first job or internships, "
        f"with {focus}.",
        "mid": f"You have {max(low, 2)}+ years of hands-on experience with {focus}.",
        "senior": f"You have {low}+ years of experience with {focus} and have owned work "
        f"end to end.",
        "lead": f"You have {low}+ years of experience with {focus}, including leading a team "
        f"or a major project.",
        "principal": f"You have {low}+ years of experience with {focus} and a record of setting "
        f"direction across several teams.",
    }[seniority]
    first, second, third = (skills + skills)[:3]
    tools = rng.choice(
        (
            f"You are fluent in {first} and {second}, and comfortable with {third}.",
            f"You have used {first}, {second} and {third} in real projects.",
            f"Day to day you will use {first}, {second} and {third}.",
        )
    )
    picked = rng.sample(family.requirements, rng.randint(2, 3))
    return " ".join(["What we are looking for:", years, tools, *picked])


def _fill(rng: random.Random, sentence: str) -> str:
    return sentence.format(n=rng.randint(3, 40), pct=rng.randint(8, 45))


def _resume(
    rng: random.Random,
    number: int,
    family: Family,
    companies: list[Company],
    career_changers: float,
) -> Resume:
    past = family
    # Drawn only when asked for, so corpora without career changers stay exactly as they were.
    if career_changers and rng.random() < career_changers:
        past = _FAMILY_BY_KEY[rng.choice(_NEIGHBOURS[family.key])]
    seniority = rng.choices(SENIORITY_LEVELS, weights=(0.04, 0.18, 0.32, 0.28, 0.11, 0.07))[0]
    low, high = _YEARS[seniority]
    years = rng.randint(low, high)
    city = rng.choice(CITIES)
    if past is family:
        own = _pick_skills(rng, family, rng.randint(4, 7), rng.randint(1, 4))
    else:
        own = _pick_skills(rng, past, rng.randint(3, 5), 1) + _pick_skills(rng, family, 2, 1)
    skills = list(own)
    # Real resumes list a few skills from elsewhere: a neighbour's stack or general tools.
    for _ in range(rng.choices((0, 1, 2), weights=(0.45, 0.4, 0.15))[0]):
        if rng.random() < 0.5:
            other = _FAMILY_BY_KEY[rng.choice(ROLE_FAMILIES)]
            skills.append(rng.choice(other.core_skills + other.optional_skills))
        else:
            skills.append(rng.choice(_NOISE_SKILLS))
    skills = list(dict.fromkeys(skills))[:12]
    title = _title(rng, family, seniority, with_team=False)
    base_title = rng.choice(family.titles).partition(", ")[0]
    focus = rng.choice(family.focus)
    headline = rng.choice(
        (
            title,
            f"{title} | {', '.join(_display_skill(s) for s in own[:3])}",
            f"{base_title} focused on {focus}",
            f"{title} with {_years(years)} of experience" if years > 1 else title,
        )
    )
    employer = rng.choice(companies).name
    if years == 0:
        opener = rng.choice(
            (
                f"Recent graduate looking for a first role in {focus}.",
                f"Final-year student with internship experience in {focus}, "
                f"most recently at {employer}.",
            )
        )
    else:
        opener = rng.choice(
            (
                f"{base_title} with {_years(years)} of experience in {focus}.",
                f"I have spent {_years(years)} working on {focus}, most recently at {employer}.",
                f"{_years(years).capitalize()} as {_with_article(base_title)}, currently at "
                f"{employer}, where I work on {focus}.",
            )
        )
    if past is not family:
        past_title = rng.choice(past.titles).partition(", ")[0]
        background = f"{_years(years).capitalize()} as" if years else "An internship as"
        opener = f"{background} {_with_article(past_title)}, now moving into {focus}."
        headline = rng.choice(
            (f"{past_title} moving into {focus}", f"{past_title}, retraining as {base_title}")
        )
    achievements = [_fill(rng, s) for s in rng.sample(past.experience, rng.randint(2, 4))]
    paragraphs = [" ".join([opener, *achievements])]
    if rng.random() < 0.6:
        tools = ", ".join(own[:-1]) + f" and {own[-1]}"
        goals = _SENIOR_GOALS if seniority in ("senior", "lead", "principal") else _GOALS
        paragraphs.append(f"Day to day I work with {tools}. {rng.choice(goals)}")
    return Resume(
        resume_id=f"res-{number:06d}",
        name=f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}",
        headline=headline,
        summary="\n\n".join(paragraphs),
        skills=skills,
        years_experience=years,
        location=city.label,
        seniority=seniority,
        role_family=family.key,
    )


def _years(n: int) -> str:
    return "one year" if n == 1 else f"{n} years"


_ACRONYMS = frozenset(
    _split(
        "sql; aws; gcp; css; html; etl; iam; siem; seo; crm; hris; gaap; ifrs; sap; cpa; bls; acls"
    )
    + _split("gdpr; nlp; llms; ios; api; iv; icu; r")
)


def _display_skill(skill: str) -> str:
    """A skill as a person would type it in a headline: SQL, A/B testing, Python."""
    if skill in _ACRONYMS:
        return skill.upper()
    if skill == "a/b testing":
        return "A/B testing"
    return skill[0].upper() + skill[1:]


def _with_article(title: str) -> str:
    """'an ML Engineer', 'a UX Designer', 'an iOS Engineer': by sound, not by letter."""
    first = title.split()[0]
    if first.isupper() or "&" in first:
        vowel_sound = first[0] in "AEFHILMNORSX"
    else:
        vowel_sound = first[0].lower() in "aeiou"
    return f"{'an' if vowel_sound else 'a'} {title}"
