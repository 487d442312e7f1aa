using System.CommandLine;
using MLNetRnn.Cli.Study;

var root = new RootCommand("mlnetrnn");
root.Subcommands.Add(StudyCommand.Create());
return root.Parse(args).Invoke();
