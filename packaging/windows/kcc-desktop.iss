; Inno Setup script for the KCC Desktop Windows installer (Inno Setup 6.1 or later).
; Build the one-folder app first (py dev.py bundle), then:  py dev.py installer
; or by hand:  iscc /DAppVersion=0.1.0 packaging\windows\kcc-desktop.iss
; The installer goes to dist\KCC-Desktop-<version>-setup.exe.
;
; Per-user by default (no administrator rights; the user may choose all users in the first dialog).
; The uninstaller removes the app and its shortcuts, and unregisters the scheduled sync; it never touches
; the data folder (%LOCALAPPDATA%\KCCDesktop: the company file and the settings) or the log folder.

#define AppName "KCC Desktop"
#define AppPublisher "KCC"
#define AppExeName "kcc-desktop.exe"
#define BundleDir "..\..\dist\kcc-desktop"
#ifndef AppVersion
  ; The version build.spec wrote into the executable's version information.
  #define AppVersion GetVersionNumbersString(AddBackslash(SourcePath) + BundleDir + "\" + AppExeName)
#endif

[Setup]
; The AppId identifies the app to Windows across versions: never change it (it is uuid5(DNS, uk.co.kcc.desktop)).
AppId={{3655E30E-F1F3-5448-84E8-0C5F4EF69DA6}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppPublisher}
AppCopyright=Copyright (C) {#AppPublisher}
VersionInfoVersion={#AppVersion}
VersionInfoProductName={#AppName}
VersionInfoCompany={#AppPublisher}
VersionInfoDescription={#AppName} installer
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=KCC-Desktop-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\kcc.ico
UninstallDisplayIcon={app}\{#AppExeName}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExeName}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExeName}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExeName}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
; A scheduled sync would otherwise go on starting a program that is no longer there.
Filename: "{app}\{#AppExeName}"; Parameters: "schedule remove"; Flags: runhidden waituntilterminated; RunOnceId: "RemoveScheduledSync"
